import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { compareBackupLabels, type BackupType } from '../../repo/backup/label.js';
import { archiveIdOf } from '../../repo/info/info-pg.js';
import type { ArchiveInfo } from '../../repo/info/archive-info.js';
import type { BackupInfo, BackupInfoEntry } from '../../repo/info/backup-info.js';
import { compareBytes } from '../../repo/info/json-value.js';
import type { ArchiveIdListing } from './expire-plan.js';

/**
 * WAL retention (pgBackRest 2.45's removeExpiredArchive). Per archive id, one backup is chosen for
 * retention: the oldest of the newest `repo-retention-archive` backups of the retention type
 * (full; full+diff; all), or the newest backup of the archive id when none of those is in it.
 * Everything from its archive start on is kept, and so is the archive start..stop of every older
 * backup (so each stays consistent, though not recoverable to a later time); the rest goes.
 * Whole 16-character directories go when nothing in them is kept; timeline history files go when
 * their timeline is older than the retention backup's. Comparisons are on names, as pgBackRest's.
 */

export interface ArchivePlanInput {
  /** backup.info after backup retention. */
  readonly backupInfo: BackupInfo;
  readonly archiveInfo: ArchiveInfo | PgkeepError;
  /** repo-retention-archive after defaulting (undefined: WAL is not expired). */
  readonly retention: number | undefined;
  readonly retentionType: BackupType;
  readonly timeBased: boolean;
  readonly listing: ReadonlyMap<string, ArchiveIdListing>;
}

/**
 * not-set: repo-retention-archive is not set; time-based-not-met: time-based full retention expired
 * no full backup; too-few-backups: fewer backups of the retention type than repo-retention-archive;
 * planned: see archiveIds; error: WAL cannot be expired (archive.info missing or not matching).
 */
export type ArchivePlanStatus = 'not-set' | 'time-based-not-met' | 'too-few-backups' | 'planned' | 'error';

export interface ArchivePlan {
  readonly status: ArchivePlanStatus;
  /** Why WAL cannot be expired (status error): the expire fails after removing the expired backups, as pgBackRest's. */
  readonly error?: PgkeepError | undefined;
  readonly retention: number | undefined;
  readonly retentionType: BackupType;
  /** Archive ids of archive.info that have a directory, oldest first. */
  readonly archiveIds: readonly ArchiveIdPlan[];
}

export interface KeepRange {
  readonly backup: string;
  readonly start: string;
  /** null: kept to the end (the retention backup). */
  readonly stop: string | null;
}

export interface ArchiveIdPlan {
  readonly archiveId: string;
  /**
   * remove: the whole archive id (an older database with no backup left); keep: nothing to do (the
   * current database without backups, or a retention backup without WAL: offline); expire: the lists below.
   */
  readonly action: 'remove' | 'keep' | 'expire';
  readonly retentionBackup?: string | undefined;
  /** The ranges kept for backups, as pgBackRest logs them (detail level). */
  readonly keep: readonly KeepRange[];
  /** 16-character WAL directories removed with all they hold. */
  readonly removeDirs: readonly string[];
  /** `<dir>/<name>` of files removed one by one (segments, partial segments, .backup files). */
  readonly removeFiles: readonly string[];
  /** The removed ranges as pgBackRest reports them: `start` is a directory name when whole directories went first. */
  readonly removeRanges: readonly { readonly start: string; readonly stop: string }[];
  /** Timeline history files removed. */
  readonly removeHistory: readonly string[];
}

/** Names that start with 24 characters of `[0-F]` (pgBackRest's `^[0-F]{24}.*$`). */
export const WAL_FILE_REGEX = /^[0-F]{24}/;
/** pgBackRest's WAL_TIMELINE_HISTORY_REGEXP, unescaped dot included. */
export const HISTORY_FILE_REGEX = /^[0-F]{8}.history$/;

/** The history id of an archive id (`15-2` -> 2). */
export function archivePgId(archiveId: string): number {
  return Number(archiveId.slice(archiveId.lastIndexOf('-') + 1));
}

/**
 * The highest WAL directory whose files the planner may list one by one for this archive id: that
 * of the newest archive start among its backups (undefined: none is looked into).
 */
export function archiveScanLimit(info: BackupInfo, archiveId: string): string | undefined {
  let limit: string | undefined;
  for (const item of info.backups) {
    if (item.dbId !== archivePgId(archiveId) || item.archiveStart === null) continue;
    const dir = item.archiveStart.slice(0, 16);
    if (limit === undefined || compareBytes(dir, limit) > 0) limit = dir;
  }
  return limit;
}

function retentionLabels(info: BackupInfo, type: BackupType): string[] {
  const types: BackupType[] = type === 'full' ? ['full'] : type === 'diff' ? ['full', 'diff'] : ['full', 'diff', 'incr'];
  return info.backups.filter((item) => types.includes(item.type)).map((item) => item.label);
}

export function planArchive(input: ArchivePlanInput): ArchivePlan {
  try {
    return planArchiveIds(input);
  } catch (error) {
    return {
      status: 'error',
      error: toPgkeepError(error),
      retention: input.retention,
      retentionType: input.retentionType,
      archiveIds: [],
    };
  }
}

function planArchiveIds(input: ArchivePlanInput): ArchivePlan {
  const base = { retention: input.retention, retentionType: input.retentionType, archiveIds: [] };
  if (input.retention === undefined) return { ...base, status: input.timeBased ? 'time-based-not-met' : 'not-set' };
  // Oldest first (pgBackRest sorts newest first and counts from the front).
  const candidates = retentionLabels(input.backupInfo, input.retentionType);
  if (candidates.length === 0 || input.retention > candidates.length) return { ...base, status: 'too-few-backups' };
  if (input.archiveInfo instanceof PgkeepError) throw input.archiveInfo;
  const archiveInfo = input.archiveInfo;
  checkHistoriesMatch(archiveInfo, input.backupInfo);

  const archiveRetained = new Set(candidates.slice(candidates.length - input.retention));
  const archiveIds: ArchiveIdPlan[] = [];
  for (const history of archiveInfo.history) {
    const archiveId = archiveIdOf(history);
    const listing = input.listing.get(archiveId);
    if (listing === undefined) continue;
    const pgId = archivePgId(archiveId);
    const local = candidates.filter((label) => byLabel(input.backupInfo, label).dbId === pgId);
    if (local.length === 0) {
      // The current database's directory stays, even without backups: archive-push writes there.
      archiveIds.push(emptyPlan(archiveId, archiveInfo.currentId === pgId ? 'keep' : 'remove'));
      continue;
    }
    const retentionLabel = local.find((label) => archiveRetained.has(label)) ?? local.at(-1)!;
    archiveIds.push(planArchiveId(archiveId, listing, input.backupInfo, byLabel(input.backupInfo, retentionLabel)));
  }
  return { ...base, status: 'planned', archiveIds };
}

function byLabel(info: BackupInfo, label: string): BackupInfoEntry {
  return info.backups.find((item) => item.label === label)!;
}

function emptyPlan(archiveId: string, action: 'remove' | 'keep', retentionBackup?: string): ArchiveIdPlan {
  return { archiveId, action, retentionBackup, keep: [], removeDirs: [], removeFiles: [], removeRanges: [], removeHistory: [] };
}

/**
 * pgBackRest compares the two history lists newest first, entry by entry, as far as archive.info
 * goes: a difference means the info files describe different databases.
 */
function checkHistoriesMatch(archiveInfo: ArchiveInfo, backupInfo: BackupInfo): void {
  const archive = [...archiveInfo.history].reverse();
  const backup = [...backupInfo.history].reverse();
  archive.forEach((entry, index) => {
    const other = backup[index];
    if (other === undefined || other.id !== entry.id || other.systemId !== entry.systemId || other.version !== entry.version) {
      throw new PgkeepError('Format', 'archive expiration cannot continue - archive and backup history lists do not match', {
        hint: 'archive.info and backup.info describe different databases: check the stanza with `pgkeep info`',
      });
    }
  });
}

function inRange(name: string, start: string, stop: string | null, length: number): boolean {
  return compareBytes(name, start.slice(0, length)) >= 0 && (stop === null || compareBytes(name, stop.slice(0, length)) <= 0);
}

function planArchiveId(
  archiveId: string,
  listing: ArchiveIdListing,
  info: BackupInfo,
  retentionBackup: BackupInfoEntry,
): ArchiveIdPlan {
  // An offline backup has no WAL to measure retention by: keep everything.
  if (retentionBackup.archiveStart === null) return emptyPlan(archiveId, 'keep', retentionBackup.label);
  const expireMax = retentionBackup.archiveStart.slice(0, 16);
  const pgId = archivePgId(archiveId);
  const keep: KeepRange[] = [];
  const ranges: { start: string; stop: string | null }[] = [];
  for (const item of info.backups) {
    if (item.dbId !== pgId || item.archiveStart === null) continue;
    const order = compareBackupLabels(item.label, retentionBackup.label);
    if (order <= 0) {
      const range = { backup: item.label, start: item.archiveStart, stop: order === 0 ? null : item.archiveStop };
      keep.push(range);
      ranges.push(range);
    } else if (compareBytes(item.archiveStart, retentionBackup.archiveStart) < 0) {
      // Never the case when timelines and LSNs only grow; kept anyway rather than trusting it.
      ranges.push({ start: item.archiveStart, stop: item.archiveStop });
    }
  }

  const removeDirs: string[] = [];
  const removeFiles: string[] = [];
  const removeRanges: { start: string; stop: string }[] = [];
  // pgBackRest's report of removed ranges: a range is written out when a kept file follows it.
  let start: string | null = null;
  let stop = '';
  const flush = () => {
    if (start !== null) removeRanges.push({ start, stop });
    start = null;
  };
  for (const dir of [...listing.walDirs].sort(compareBytes)) {
    if (!ranges.some((range) => inRange(dir, range.start, range.stop, 16))) {
      removeDirs.push(dir);
      start = dir;
      stop = dir;
    } else if (compareBytes(dir, expireMax) <= 0) {
      const files = listing.files.get(dir);
      if (files === undefined) throw new PgkeepError('Assert', `WAL directory '${archiveId}/${dir}' was not listed for expire`);
      for (const file of files.filter((name) => WAL_FILE_REGEX.test(name)).sort(compareBytes)) {
        const segment = file.slice(0, 24);
        if (ranges.some((range) => inRange(segment, range.start, range.stop, 24))) {
          flush();
        } else {
          removeFiles.push(`${dir}/${file}`);
          stop = segment;
          start ??= segment;
        }
      }
    }
  }
  flush();

  const timeline = retentionBackup.archiveStart.slice(0, 8);
  const removeHistory = listing.historyFiles
    .filter((name) => HISTORY_FILE_REGEX.test(name) && compareBytes(name.slice(0, 8), timeline) < 0)
    .sort(compareBytes);
  return {
    archiveId,
    action: 'expire',
    retentionBackup: retentionBackup.label,
    keep,
    removeDirs,
    removeFiles,
    removeRanges,
    removeHistory,
  };
}
