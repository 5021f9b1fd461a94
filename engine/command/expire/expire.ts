import type { Config } from '../../config/config.js';
import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { checkBackupLabelOption } from '../../repo/backup/label.js';
import type { CommandContext } from '../command.js';
import { archiveStanzaPath, stanzaRepo } from '../common/stanza-repo.js';
import { withStanzaLock } from '../common/stanza-lock.js';
import { repoIndexes } from '../common/storages.js';
import { renderExpireJson } from './expire-json.js';
import { planExpire, type ExpirePlan } from './expire-plan.js';
import { executeAction, gatherRepo } from './expire-repo.js';
import { expireSteps, type ExpireLogLine } from './expire-steps.js';
import { retentionSettings } from './retention.js';

export { planExpire } from './expire-plan.js';
export type { ExpireInput, ExpirePlan, RepoListing } from './expire-plan.js';
export { expireSteps } from './expire-steps.js';
export { renderExpireJson } from './expire-json.js';

/** pgBackRest prefixes every line of a dry run with this. */
export const DRY_RUN_PREFIX = '[DRY-RUN] ';

export interface ExpireOptions {
  /** Plan and log, change nothing. */
  readonly dryRun?: boolean;
  /** `--set`: expire this backup and its dependents instead of applying retention (expire command only). */
  readonly set?: string | undefined;
  /** Epoch seconds (tests); default the clock. */
  readonly now?: number;
  /** Stops between two removals (the UI's cancel); what is done stays consistent. */
  readonly signal?: AbortSignal;
}

export interface RepoExpireResult {
  readonly repo: number;
  /** undefined when the repository failed before its plan was made. */
  readonly plan?: ExpirePlan | undefined;
  readonly error?: PgkeepError | undefined;
  /** The lines logged for this repository (what --dry-run shows). */
  readonly lines: readonly ExpireLogLine[];
}

export interface ExpireResult {
  readonly stanza: string;
  readonly dryRun: boolean;
  readonly repos: readonly RepoExpireResult[];
}

/**
 * pgBackRest's retention warnings for every repository (full retention first, then WAL), which
 * it gives when the backup or expire command starts (an expire dry run's marked as such).
 */
export function logRetentionWarnings(config: Config, prefix = ''): void {
  const resolved = repoIndexes(config).map((index) => retentionSettings(config, index));
  for (const warning of resolved.flatMap((item) => item.fullWarnings)) log.warn(prefix + warning);
  for (const warning of resolved.flatMap((item) => item.archiveWarnings)) log.warn(prefix + warning);
}

/**
 * Expires every repository of the stanza (or `--repo`), one after the other, as pgBackRest's
 * cmdExpire: a repository that fails is logged and the next one is still expired. The caller holds
 * the stanza's backup lock (the backup command already does when it expires after a backup).
 * Never throws for a repository's failure: see expireStanza.
 */
export async function expireRepos(config: Config, options: ExpireOptions = {}): Promise<ExpireResult> {
  const stanza = config.string('stanza');
  const dryRun = options.dryRun ?? false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const prefix = dryRun ? DRY_RUN_PREFIX : '';
  const indexes = repoIndexes(config);
  const repos: RepoExpireResult[] = [];
  let setFound = false;

  for (const index of indexes) {
    const lines: ExpireLogLine[] = [];
    const emit = (line: ExpireLogLine) => {
      lines.push(line);
      log[line.level](prefix + line.message);
    };
    let plan: ExpirePlan | undefined;
    try {
      const repo = stanzaRepo(config, index, stanza);
      const retention = retentionSettings(config, index).settings;
      const state = await gatherRepo(repo, {
        set: options.set,
        listWal: retention.archive !== undefined || retention.fullType === 'time',
        listHistory: retention.history !== undefined,
        warn: (message) => emit({ level: 'warn', message }),
      });
      plan = planExpire({ repo: index, ...state, retention, set: options.set, now });
      setFound ||= plan.set?.found === true;
      const steps = expireSteps(plan, {
        archivePath: repo.storage.resolve(archiveStanzaPath(stanza)),
        warnSetMissing: options.set !== undefined && !setFound && index === indexes.at(-1),
      });
      for (const step of steps) {
        if (step.fail !== undefined) throw step.fail;
        if (step.action !== undefined && !dryRun) {
          if (options.signal?.aborted === true) throw new PgkeepError('Term', `expire of repo${index} was cancelled`);
          await executeAction(repo, step.action, plan.backupInfo);
        }
        if (step.log !== undefined) emit(step.log);
      }
      repos.push({ repo: index, plan, lines });
    } catch (caught) {
      const error = toPgkeepError(caught);
      log.error(`${prefix}repo${index}: ${error.text}`, error.code);
      repos.push({ repo: index, plan, error, lines });
    }
  }
  return { stanza, dryRun, repos };
}

/** The error pgBackRest ends with when some repositories failed. */
export function expireFailure(result: ExpireResult): PgkeepError | undefined {
  const failed = result.repos.filter((repo) => repo.error !== undefined).length;
  if (failed === 0) return undefined;
  return new PgkeepError('Command', `expire command encountered ${failed} error(s), check the log file for details`);
}

/**
 * Expires by retention, as the backup command does after each backup (unless expire-auto=n):
 * expireRepos, then the Command error when a repository failed. The caller holds the backup lock.
 */
export async function expireStanza(config: Config, options: ExpireOptions = {}): Promise<ExpireResult> {
  const result = await expireRepos(config, options);
  const failure = expireFailure(result);
  if (failure !== undefined) throw failure;
  return result;
}

/** Whether info-level lines reach the console anyway (then a dry run does not print them again). */
function consoleShowsInfo(config: Config): boolean {
  return ['info', 'detail', 'debug', 'trace'].includes(config.stringOr('log-level-console') ?? 'warn');
}

/**
 * `pgkeep expire`: pgBackRest's expire command under the stanza's backup lock. `--dry-run` changes
 * nothing and prints what would be removed; `--output=json` prints the plan (see expire-json.ts).
 */
export async function run({ config, out, signal }: CommandContext): Promise<number> {
  const set = config.stringOr('set');
  if (set !== undefined) checkBackupLabelOption(set);
  const dryRun = config.booleanOr('dry-run') ?? false;
  logRetentionWarnings(config, dryRun ? DRY_RUN_PREFIX : '');
  const result = await withStanzaLock(config, 'backup', () => expireRepos(config, { dryRun, set, signal }));

  if (config.stringOr('output') === 'json') {
    out(renderExpireJson(result) + '\n');
  } else if (dryRun && !consoleShowsInfo(config)) {
    for (const repo of result.repos)
      for (const line of repo.lines) if (line.level === 'info') out(`${DRY_RUN_PREFIX}${line.message}\n`);
  }
  const failure = expireFailure(result);
  if (failure !== undefined) throw failure;
  return 0;
}
