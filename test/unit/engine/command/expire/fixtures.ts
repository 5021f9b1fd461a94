import type { ArchiveIdListing, RepoListing } from '../../../../../engine/command/expire/expire-plan.js';
import type { RetentionSettings } from '../../../../../engine/command/expire/retention.js';
import { parseBackupLabel } from '../../../../../engine/repo/backup/label.js';
import type { ArchiveInfo } from '../../../../../engine/repo/info/archive-info.js';
import type { BackupInfo, BackupInfoEntry } from '../../../../../engine/repo/info/backup-info.js';
import type { BackupPgHistoryEntry } from '../../../../../engine/repo/info/info-pg.js';

/** Backup.info, archive.info and listings built in memory for the expire planner's tests. */

export const SYSTEM_ID = 7710482956265128591n;
export const DAY = 86_400;

/** A 24-character segment name. */
export function seg(timeline: number, log: number, segment: number): string {
  return [timeline, log, segment].map((part) => part.toString(16).toUpperCase().padStart(8, '0')).join('');
}

export interface EntryOptions {
  readonly prior?: string;
  /** Segment numbers (timeline 1, log 0) or full names. */
  readonly start?: number | string | null;
  readonly stop?: number | string | null;
  readonly timestampStop?: number;
  readonly dbId?: number;
  readonly reference?: string[];
}

const segmentOf = (value: number | string | null | undefined): string | null =>
  value === undefined || value === null ? null : typeof value === 'string' ? value : seg(1, 0, value);

/** A backup.info entry; diff and incr take their prior from options or, for diff, the full label. */
export function entry(label: string, options: EntryOptions = {}): BackupInfoEntry {
  const parsed = parseBackupLabel(label);
  const prior = parsed.type === 'full' ? undefined : (options.prior ?? parsed.fullLabel);
  const start = segmentOf(options.start);
  return {
    label,
    backrestFormat: 5,
    backrestVersion: '2.45',
    archiveStart: start,
    archiveStop: options.stop === undefined ? start : segmentOf(options.stop),
    repoSize: 1,
    repoSizeDelta: 1,
    size: 1,
    sizeDelta: 1,
    prior,
    reference: options.reference ?? (prior === undefined ? undefined : [prior]),
    timestampStart: (options.timestampStop ?? 1_000) - 10,
    timestampStop: options.timestampStop ?? 1_000,
    type: parsed.type,
    dbId: options.dbId ?? 1,
    optionArchiveCheck: true,
    optionArchiveCopy: false,
    optionBackupStandby: false,
    optionChecksumPage: true,
    optionCompress: true,
    optionHardlink: false,
    optionOnline: true,
  };
}

export interface PgVersion {
  readonly id: number;
  readonly version: string;
  readonly systemId?: bigint;
}

const ONE_DB: readonly PgVersion[] = [{ id: 1, version: '15' }];

export function backupInfo(backups: BackupInfoEntry[], history: readonly PgVersion[] = ONE_DB): BackupInfo {
  return {
    backrestVersion: '2.45',
    cipherPass: undefined,
    currentId: history.at(-1)!.id,
    history: history.map((item): BackupPgHistoryEntry => ({
      id: item.id,
      systemId: item.systemId ?? SYSTEM_ID,
      version: item.version,
      catalogVersion: 202209061,
      controlVersion: 1300,
    })),
    backups: [...backups].sort((a, b) => (a.label < b.label ? -1 : 1)),
    extraSections: new Map(),
  };
}

export function archiveInfo(history: readonly PgVersion[] = ONE_DB): ArchiveInfo {
  return {
    backrestVersion: '2.45',
    cipherPass: undefined,
    currentId: history.at(-1)!.id,
    history: history.map((item) => ({ id: item.id, systemId: item.systemId ?? SYSTEM_ID, version: item.version })),
    extraSections: new Map(),
  };
}

/**
 * The listing of one archive id from stored file names (`<24 hex>-<sha1>.lz4`, `.backup` files,
 * `.history` files): every directory is listed.
 */
export function archiveListing(files: readonly string[]): ArchiveIdListing {
  const dirs = new Map<string, string[]>();
  const historyFiles: string[] = [];
  for (const name of files) {
    if (name.endsWith('.history')) historyFiles.push(name);
    else {
      const dir = name.slice(0, 16);
      dirs.set(dir, [...(dirs.get(dir) ?? []), name]);
    }
  }
  return { walDirs: [...dirs.keys()].sort(), files: dirs, historyFiles };
}

const SHA1 = 'a'.repeat(40);

/** Stored segment names for a range of segment numbers on one timeline and log. */
export function stored(timeline: number, log: number, from: number, to: number): string[] {
  const names: string[] = [];
  for (let segment = from; segment <= to; segment++) names.push(`${seg(timeline, log, segment)}-${SHA1}.lz4`);
  return names;
}

export function listing(archive: Record<string, readonly string[]> = {}, options: Partial<RepoListing> = {}): RepoListing {
  return {
    backupLabels: options.backupLabels ?? [],
    resumable: options.resumable,
    archiveIds: new Map(Object.entries(archive).map(([id, files]) => [id, archiveListing(files)])),
    historyManifests: options.historyManifests ?? new Map(),
  };
}

export function retention(settings: Partial<RetentionSettings> = {}): RetentionSettings {
  const full = settings.full;
  const fullType = settings.fullType ?? 'count';
  const archiveType = settings.archiveType ?? 'full';
  const archive =
    'archive' in settings
      ? settings.archive
      : archiveType === 'full' && fullType === 'count'
        ? full
        : archiveType === 'diff'
          ? settings.diff
          : undefined;
  return { full, fullType, diff: settings.diff, archive, archiveType, history: settings.history };
}

// A series of backups on timeline 1 (segments 2 to 0F), seven labels a day apart.
export const F1 = '20260101-000000F';
export const F1_I1 = `${F1}_20260102-000000I`;
export const F1_D1 = `${F1}_20260103-000000D`;
export const F1_I2 = `${F1}_20260104-000000I`;
export const F2 = '20260105-000000F';
export const F2_D2 = `${F2}_20260106-000000D`;
export const F3 = '20260107-000000F';

export function series(): BackupInfoEntry[] {
  return [
    entry(F1, { start: 2 }),
    entry(F1_I1, { start: 4 }),
    entry(F1_D1, { start: 6 }),
    entry(F1_I2, { prior: F1_D1, start: 8, reference: [F1, F1_D1] }),
    entry(F2, { start: 0x0a }),
    entry(F2_D2, { start: 0x0c }),
    entry(F3, { start: 0x0e, stop: 0x0f }),
  ];
}

export const ALL = [F1, F1_I1, F1_D1, F1_I2, F2, F2_D2, F3];
