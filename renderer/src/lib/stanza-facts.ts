import type { ArchiveStatus, BackupSummary, StanzaSummary } from '../../../engine/service/api.js';
import { formatAge, formatCount } from './format.js';

/** The newest backup (by stop time), if any. */
export function latestBackup(stanza: Pick<StanzaSummary, 'backups'>): BackupSummary | undefined {
  let latest: BackupSummary | undefined;
  for (const backup of stanza.backups) if (latest === undefined || backup.stopTime > latest.stopTime) latest = backup;
  return latest;
}

export interface ArchiveFacts {
  /** The newest segment in the repository, or null when nothing was archived. */
  readonly newestWal: string | null;
  /** "4 min ago", when known. */
  readonly newestAge: string | null;
  /** pg_stat_archiver's counts in words ("1,234 archived, 3 failed"), or why they are not known. */
  readonly archiver: string;
  /** "last failure 000000010000000000000043, 2 min ago", when there was one. */
  readonly lastFailure: string | null;
  /** PostgreSQL's archiver failed more recently than it succeeded. */
  readonly failing: boolean;
}

export function archiveFacts(archive: ArchiveStatus, nowSeconds: number): ArchiveFacts {
  const newestAge =
    archive.maxWal === null || archive.lastArchivedTime === null ? null : formatAge(nowSeconds - archive.lastArchivedTime);
  const base = { newestWal: archive.maxWal, newestAge };
  const stats = archive.archiver;
  if (stats === null) return { ...base, archiver: 'unknown: PostgreSQL could not be asked', lastFailure: null, failing: false };
  const failing = stats.failedCount > 0 && stats.lastFailedTime !== null && (stats.lastArchivedTime ?? 0) <= stats.lastFailedTime;
  const lastFailure =
    stats.failedCount === 0 || stats.lastFailedWal === null
      ? null
      : `last failure ${stats.lastFailedWal}${stats.lastFailedTime === null ? '' : `, ${formatAge(nowSeconds - stats.lastFailedTime)}`}`;
  return {
    ...base,
    archiver: `${formatCount(stats.archivedCount)} archived, ${formatCount(stats.failedCount)} failed`,
    lastFailure,
    failing,
  };
}
