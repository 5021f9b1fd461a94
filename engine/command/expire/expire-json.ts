import type { ArchivePlan } from './expire-archive.js';
import type { ExpireResult, RepoExpireResult } from './expire.js';

/**
 * `pgkeep expire --output=json` (pgBackRest has no such output; this is pgkeep's, for scripts and
 * the desktop app). One object, version 1:
 *
 * ```
 * {
 *   "version": 1, "stanza": "main", "dryRun": true,          // dryRun: nothing was changed
 *   "repos": [{
 *     "repo": 1,
 *     "error": null | { "code": 75, "message": "..." },       // this repository failed (then "plan" may be null)
 *     "plan": null | {
 *       "set": null | { "label": "...", "found": true },      // --set
 *       "expired": [{ "reason": "full" | "diff" | "time-based" | "adhoc", "labels": ["<oldest first>"] }],
 *       "latestExpired": null | { "label": "...", "newLatest": "..." | null },
 *       "retained": ["<labels left in backup.info, oldest first>"],
 *       "removeBackups": ["<backup directories removed, newest first>"],
 *       "archive": {
 *         "status": "not-set" | "time-based-not-met" | "too-few-backups" | "planned" | "error",
 *         "error": null | { "code": 55, "message": "..." },    // status error: WAL could not be planned
 *         "retention": 2 | null, "retentionType": "full" | "diff" | "incr",
 *         "archiveIds": [{
 *           "archiveId": "15-1",
 *           "action": "remove" | "keep" | "expire",          // remove: the whole archive id directory
 *           "retentionBackup": "..." | null,
 *           "keep": [{ "backup": "...", "start": "<segment>", "stop": "<segment>" | null }],
 *           "removeDirs": ["0000000100000000"],                  // whole WAL directories
 *           "removeFiles": ["0000000100000001/<file name>"],     // single files
 *           "removeRanges": [{ "start": "...", "stop": "..." }], // as pgBackRest logs them
 *           "removeHistory": ["00000001.history"]
 *         }]
 *       },
 *       "history": { "retentionDays": 30 | null, "minLabel": "..." | null,
 *                    "removeYears": ["2024"], "removeFiles": ["2025/<label>.manifest.gz"] }
 *     }
 *   }]
 * }
 * ```
 */
export const EXPIRE_JSON_VERSION = 1;

function archiveJson(archive: ArchivePlan): unknown {
  return {
    status: archive.status,
    error: archive.error === undefined ? null : { code: archive.error.code, message: archive.error.text },
    retention: archive.retention ?? null,
    retentionType: archive.retentionType,
    archiveIds: archive.archiveIds.map((item) => ({
      archiveId: item.archiveId,
      action: item.action,
      retentionBackup: item.retentionBackup ?? null,
      keep: item.keep,
      removeDirs: item.removeDirs,
      removeFiles: item.removeFiles,
      removeRanges: item.removeRanges,
      removeHistory: item.removeHistory,
    })),
  };
}

function repoJson(result: RepoExpireResult): unknown {
  const plan = result.plan;
  return {
    repo: result.repo,
    error: result.error === undefined ? null : { code: result.error.code, message: result.error.text },
    plan:
      plan === undefined
        ? null
        : {
            set: plan.set ?? null,
            expired: plan.expired,
            latestExpired:
              plan.latestExpired === undefined
                ? null
                : { label: plan.latestExpired.label, newLatest: plan.latestExpired.newLatest ?? null },
            retained: plan.backupInfo.backups.map((entry) => entry.label),
            removeBackups: plan.removeBackups,
            archive: archiveJson(plan.archive),
            history: {
              retentionDays: plan.history.retentionDays ?? null,
              minLabel: plan.history.minLabel ?? null,
              removeYears: plan.history.removeYears,
              removeFiles: plan.history.removeFiles,
            },
          },
  };
}

export function expireJson(result: ExpireResult): unknown {
  return { version: EXPIRE_JSON_VERSION, stanza: result.stanza, dryRun: result.dryRun, repos: result.repos.map(repoJson) };
}

export function renderExpireJson(result: ExpireResult): string {
  return JSON.stringify(expireJson(result));
}
