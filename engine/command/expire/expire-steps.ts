import type { PgkeepError } from '../../error/pgkeep-error.js';
import type { ExpirePlan } from './expire-plan.js';
import { retentionOptionName } from './retention.js';

/**
 * A plan as the ordered steps that carry it out, each with the line pgBackRest 2.45 logs for it.
 * The real run performs the actions; `--dry-run` only logs the lines. The order is what makes an
 * interrupted expire safe: backup.info is saved before any backup directory goes, so it never
 * lists a backup whose files are being removed, and each directory loses its manifest first, so a
 * half-removed directory is never taken for a complete backup (pgBackRest's reconstruct adds
 * directories that have a manifest back to backup.info).
 */

export type ExpireAction =
  | { readonly kind: 'save-backup-info' }
  | { readonly kind: 'link-latest'; readonly label: string }
  | { readonly kind: 'remove-backup'; readonly label: string }
  | { readonly kind: 'remove-archive-id'; readonly archiveId: string }
  | { readonly kind: 'remove-wal-dir'; readonly archiveId: string; readonly dir: string }
  /** file: `<dir>/<name>`. */
  | { readonly kind: 'remove-wal-file'; readonly archiveId: string; readonly file: string }
  | { readonly kind: 'remove-timeline-history'; readonly archiveId: string; readonly file: string }
  | { readonly kind: 'remove-history-year'; readonly year: string }
  /** file: `<year>/<name>`. */
  | { readonly kind: 'remove-history-manifest'; readonly file: string };

export interface ExpireLogLine {
  readonly level: 'warn' | 'info' | 'detail';
  readonly message: string;
}

export interface ExpireStep {
  readonly log?: ExpireLogLine | undefined;
  readonly action?: ExpireAction | undefined;
  /** The expire of this repository fails here (after the backups went: WAL could not be planned). */
  readonly fail?: PgkeepError | undefined;
}

export interface StepOptions {
  /** Absolute path of `archive/<stanza>` (pgBackRest names removed archive ids by absolute path). */
  readonly archivePath: string;
  /** `--set` was found in no repository: this is the last one, which gives the warning. */
  readonly warnSetMissing?: boolean;
}

export function expireSteps(plan: ExpirePlan, options: StepOptions): ExpireStep[] {
  const repo = `repo${plan.repo}`;
  const steps: ExpireStep[] = [];
  const info = (message: string, action?: ExpireAction) => steps.push({ log: { level: 'info', message }, action });

  if (plan.latestExpired !== undefined) {
    steps.push({
      log: {
        level: 'warn',
        message:
          `${repo}: expiring latest backup ${plan.latestExpired.label} - the ability to perform point-in-time-recovery (PITR) ` +
          `may be affected\nHINT: non-default settings for '${retentionOptionName(plan.repo, 'archive')}'/` +
          `'${retentionOptionName(plan.repo, 'archive-type')}' (even in prior expires) can cause gaps in the WAL.`,
      },
    });
  }
  for (const set of plan.expired) {
    info(`${repo}: expire ${set.reason} backup ${set.labels.length > 1 ? 'set ' : ''}${set.labels.join(', ')}`);
  }
  if (options.warnSetMissing === true && plan.set !== undefined) {
    steps.push({
      log: {
        level: 'warn',
        message: `backup ${plan.set.label} does not exist\nHINT: run the info command and confirm the backup is listed`,
      },
    });
  }

  steps.push({ action: { kind: 'save-backup-info' } });
  if (plan.latestExpired?.newLatest !== undefined)
    steps.push({ action: { kind: 'link-latest', label: plan.latestExpired.newLatest } });
  for (const label of plan.removeBackups) info(`${repo}: remove expired backup ${label}`, { kind: 'remove-backup', label });

  if (plan.archive.error !== undefined) {
    steps.push({ fail: plan.archive.error });
    return steps;
  }
  archiveSteps(plan, repo, options, steps);

  for (const year of plan.history.removeYears)
    info(`${repo}: remove expired backup history path ${year}`, { kind: 'remove-history-year', year });
  for (const file of plan.history.removeFiles) {
    info(`${repo}: remove expired backup history manifest ${file.slice(file.indexOf('/') + 1)}`, {
      kind: 'remove-history-manifest',
      file,
    });
  }
  return steps;
}

function archiveSteps(plan: ExpirePlan, repo: string, options: StepOptions, steps: ExpireStep[]): void {
  const info = (message: string, action?: ExpireAction) => steps.push({ log: { level: 'info', message }, action });
  const { archive } = plan;
  if (archive.status === 'not-set') {
    info(`option '${retentionOptionName(plan.repo, 'archive')}' is not set - archive logs will not be expired`);
  } else if (archive.status === 'time-based-not-met') {
    info(`${repo}: time-based archive retention not met - archive logs will not be expired`);
  }
  for (const item of archive.archiveIds) {
    const { archiveId } = item;
    if (item.action === 'remove') {
      info(`${repo}: remove archive path ${options.archivePath}/${archiveId}`, { kind: 'remove-archive-id', archiveId });
      continue;
    }
    if (item.action === 'keep') continue;
    for (const range of item.keep) {
      steps.push({
        log: {
          level: 'detail',
          message:
            `${repo}: ${archiveId} archive retention on backup ${range.backup}, start = ${range.start}` +
            (range.stop === null ? '' : `, stop = ${range.stop}`),
        },
      });
    }
    for (const dir of item.removeDirs) steps.push({ action: { kind: 'remove-wal-dir', archiveId, dir } });
    for (const file of item.removeFiles) steps.push({ action: { kind: 'remove-wal-file', archiveId, file } });
    if (item.removeDirs.length + item.removeFiles.length === 0) info(`${repo}: ${archiveId} no archive to remove`);
    for (const range of item.removeRanges)
      info(`${repo}: ${archiveId} remove archive, start = ${range.start}, stop = ${range.stop}`);
    for (const file of item.removeHistory) {
      info(`${repo}: ${archiveId} remove history file ${file}`, { kind: 'remove-timeline-history', archiveId, file });
    }
  }
}
