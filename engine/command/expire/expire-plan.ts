import { PgkeepError } from '../../error/pgkeep-error.js';
import { compareBackupLabels, isBackupLabel, type BackupType } from '../../repo/backup/label.js';
import type { ArchiveInfo } from '../../repo/info/archive-info.js';
import { findBackup, type BackupInfo, type BackupInfoEntry } from '../../repo/info/backup-info.js';
import { planArchive, type ArchivePlan } from './expire-archive.js';
import { planHistory, type HistoryPlan } from './expire-history.js';
import type { RetentionSettings } from './retention.js';

/**
 * The expire planner: pgBackRest 2.45's retention (command/expire/expire.c) as a pure function of
 * backup.info, archive.info, a listing of the repository, the retention settings and the time.
 * The plan is what `expire --dry-run` prints, what the real run carries out, and what the desktop
 * app shows before anything is removed.
 */

export const SECONDS_PER_DAY = 86_400;

/** What is on disk in one repository, as far as expire looks. */
export interface RepoListing {
  /** Directories of `backup/<stanza>` named like backup labels. */
  readonly backupLabels: readonly string[];
  /**
   * The newest of them when it is resumable (a `backup.manifest.copy` without `backup.manifest`),
   * with the prior label from its manifest (loaded only for `--set`, see gatherRepo).
   */
  readonly resumable?: { readonly label: string; readonly prior?: string | undefined } | undefined;
  /** Archive id directories of `archive/<stanza>` (`15-1`). */
  readonly archiveIds: ReadonlyMap<string, ArchiveIdListing>;
  /** `backup.history/<year>` -> names in it. */
  readonly historyManifests: ReadonlyMap<string, readonly string[]>;
}

export interface ArchiveIdListing {
  /** The 16-character WAL directories. */
  readonly walDirs: readonly string[];
  /**
   * Names (`^[0-F]{24}`) in the WAL directories the planner may look into: those up to the archive
   * start of the newest backup of the archive id (see archiveScanLimit).
   */
  readonly files: ReadonlyMap<string, readonly string[]>;
  /** Timeline history files (`00000002.history`) directly under the archive id. */
  readonly historyFiles: readonly string[];
}

export interface ExpireInput {
  /** The N of repoN, for messages. */
  readonly repo: number;
  readonly backupInfo: BackupInfo;
  /** archive.info, or why it could not be loaded: only an error when WAL is to be expired (as in pgBackRest). */
  readonly archiveInfo: ArchiveInfo | PgkeepError;
  readonly retention: RetentionSettings;
  /** `--set`: expire this backup (and its dependents) instead of applying backup retention. */
  readonly set?: string | undefined;
  /** Epoch seconds. */
  readonly now: number;
  readonly listing: RepoListing;
}

export type ExpireReason = 'full' | 'diff' | 'time-based' | 'adhoc';

export interface ExpiredSet {
  readonly reason: ExpireReason;
  /** The backup that retention selected first, then its dependents, oldest first. */
  readonly labels: readonly string[];
}

export interface ExpirePlan {
  readonly repo: number;
  /** `--set`: the label, and whether this repository has it. */
  readonly set?: { readonly label: string; readonly found: boolean } | undefined;
  readonly expired: readonly ExpiredSet[];
  /** `--set` expired the newest backup: the warning to give and where the `latest` link moves. */
  readonly latestExpired?: { readonly label: string; readonly newLatest: string | undefined } | undefined;
  /** backup.info as it is saved: the backups that remain. */
  readonly backupInfo: BackupInfo;
  /** Backup directories removed, newest first: expired backups and any other not in backup.info. */
  readonly removeBackups: readonly string[];
  readonly archive: ArchivePlan;
  readonly history: HistoryPlan;
}

export function labelsOfTypes(info: BackupInfo, types: readonly BackupType[]): string[] {
  return info.backups.filter((entry) => types.includes(entry.type)).map((entry) => entry.label);
}

/**
 * pgBackRest's infoBackupDataDependentList: the backup and every backup whose prior is in the
 * list, following the prior chain oldest to newest.
 */
export function dependentChain(info: BackupInfo, label: string): string[] {
  const chain = [label];
  for (const entry of info.backups) if (entry.prior !== undefined && chain.includes(entry.prior)) chain.push(entry.label);
  return chain;
}

/** Removes a backup and its dependents from backup.info; returns their labels, oldest first. */
function expireBackup(info: BackupInfo, label: string): string[] {
  const expired = new Set(dependentChain(info, label));
  info.backups = info.backups.filter((entry) => !expired.has(entry.label));
  return [...expired].sort(compareBackupLabels);
}

function cloneBackupInfo(info: BackupInfo): BackupInfo {
  return { ...info, history: [...info.history], backups: [...info.backups] };
}

/** The entry of a label taken from the same backup.info (so never missing: the Assert is not reached by tests). */
function entry(info: BackupInfo, label: string): BackupInfoEntry {
  const found = findBackup(info, label);
  if (found === undefined) throw new PgkeepError('Assert', `backup '${label}' is not in backup.info`);
  return found;
}

/** pgBackRest's expireAdhocBackup: refuses to expire the only full backup (of the current database). */
function expireAdhoc(info: BackupInfo, label: string, expired: ExpiredSet[]): ExpirePlan['latestExpired'] {
  const fulls = labelsOfTypes(info, ['full']).reverse();
  if (fulls[0] === label && (fulls.length === 1 || entry(info, label).dbId !== entry(info, fulls[1]!).dbId)) {
    throw new PgkeepError(
      'BackupSetInvalid',
      `full backup ${label} cannot be expired until another full backup has been created on this repo`,
      { hint: 'take a new full backup first, then expire this one' },
    );
  }
  const latest = info.backups.at(-1)!.label;
  expired.push({ reason: 'adhoc', labels: expireBackup(info, label) });
  if (findBackup(info, latest) !== undefined) return undefined;
  return { label: latest, newLatest: info.backups.at(-1)?.label };
}

/** pgBackRest's expireFullBackup: keep the newest `retention` full backups with their dependents. */
function expireFullCount(info: BackupInfo, retention: number, expired: ExpiredSet[]): void {
  const fulls = labelsOfTypes(info, ['full']);
  for (const label of fulls.slice(0, Math.max(0, fulls.length - retention)))
    expired.push({ reason: 'full', labels: expireBackup(info, label) });
}

/**
 * pgBackRest's expireTimeBasedBackup: keep the full backups that stopped at or after `minTimestamp`
 * and the newest one that stopped before it (so the period stays recoverable), with everything
 * that follows them. Returns how many full backups were expired.
 */
function expireFullTime(info: BackupInfo, minTimestamp: number, expired: ExpiredSet[]): number {
  const fulls = labelsOfTypes(info, ['full']);
  let keep: string | undefined;
  for (let index = fulls.length - 1; index >= 0; index--) {
    keep = fulls[index]!;
    if (entry(info, keep).timestampStop < minTimestamp) break;
  }
  let count = 0;
  while (keep !== undefined && info.backups[0]!.label !== keep) {
    expired.push({ reason: 'time-based', labels: expireBackup(info, info.backups[0]!.label) });
    count++;
  }
  return count;
}

/**
 * pgBackRest's expireDiffBackup: keep the newest `retention` of the full and differential backups
 * (full backups count, but are never expired here), a differential going with its incrementals.
 */
function expireDiff(info: BackupInfo, retention: number, expired: ExpiredSet[]): void {
  const candidates = labelsOfTypes(info, ['full', 'diff']);
  for (const label of candidates.slice(0, Math.max(0, candidates.length - retention))) {
    if (entry(info, label).type === 'full') continue;
    expired.push({ reason: 'diff', labels: expireBackup(info, label) });
  }
}

/**
 * pgBackRest's removeExpiredBackup: every backup directory not in backup.info goes, except, with
 * `--set`, the newest one when it is a resumable backup that may still continue a remaining set.
 */
function backupsToRemove(info: BackupInfo, listing: RepoListing, set: string | undefined): string[] {
  const current = new Set(info.backups.map((item) => item.label));
  const onDisk = listing.backupLabels.filter(isBackupLabel).sort((a, b) => compareBackupLabels(b, a));
  let keepNewest = false;
  const resumable = listing.resumable;
  if (set !== undefined && resumable !== undefined && resumable.label === onDisk[0]) {
    keepNewest =
      !resumable.label.startsWith(set.slice(0, 16)) ||
      (resumable.prior !== undefined && findBackup(info, resumable.prior) !== undefined);
  }
  return onDisk.slice(keepNewest ? 1 : 0).filter((label) => !current.has(label));
}

/** Safety net: no remaining backup may need one that goes (pgBackRest's rules already ensure it). */
function checkDependencies(info: BackupInfo): void {
  const current = new Set(info.backups.map((item) => item.label));
  for (const item of info.backups) {
    for (const needed of [...(item.prior === undefined ? [] : [item.prior]), ...(item.reference ?? [])]) {
      if (!current.has(needed))
        throw new PgkeepError('Assert', `expire would remove backup ${needed}, which remaining backup ${item.label} needs`);
    }
  }
}

/** Plans the expiration of one repository. */
export function planExpire(input: ExpireInput): ExpirePlan {
  const info = cloneBackupInfo(input.backupInfo);
  const { retention } = input;
  const expired: ExpiredSet[] = [];
  let latestExpired: ExpirePlan['latestExpired'];
  let archiveRetention = retention.archive;
  let set: ExpirePlan['set'];

  if (input.set !== undefined) {
    const found = findBackup(info, input.set) !== undefined;
    set = { label: input.set, found };
    if (found) latestExpired = expireAdhoc(info, input.set, expired);
  } else {
    if (retention.fullType === 'time') {
      if (retention.full !== undefined) {
        const fullCount = labelsOfTypes(info, ['full']).length;
        const fullExpired = expireFullTime(info, input.now - retention.full * SECONDS_PER_DAY, expired);
        // Time-based retention keeps the WAL of the full backups it keeps (when nothing else is asked for).
        if (retention.archiveType === 'full' && retention.archive === undefined && fullExpired > 0)
          archiveRetention = fullCount - fullExpired;
      }
    } else if (retention.full !== undefined) {
      expireFullCount(info, retention.full, expired);
    }
    if (retention.diff !== undefined) expireDiff(info, retention.diff, expired);
  }
  checkDependencies(info);

  return {
    repo: input.repo,
    set,
    expired,
    latestExpired,
    backupInfo: info,
    removeBackups: backupsToRemove(info, input.listing, input.set),
    archive: planArchive({
      backupInfo: info,
      archiveInfo: input.archiveInfo,
      retention: archiveRetention,
      retentionType: retention.archiveType,
      timeBased: retention.fullType === 'time',
      listing: input.listing.archiveIds,
    }),
    history: planHistory(info, retention.history, input.now, input.listing.historyManifests),
  };
}
