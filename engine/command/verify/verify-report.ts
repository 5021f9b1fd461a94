import type { BackupType } from '../../repo/backup/label.js';
import type { MissingRange, WalRange } from './wal-ranges.js';

/*
 * The result of `pgkeep verify`, and the document `--output=json` prints (one JSON object, one
 * line, for the desktop app and scripts). The text output (`--output=text`) is pgBackRest 2.45's
 * layout rendered from the same object (verify-text.ts).
 *
 * Counters follow pgBackRest's meaning so that a repository gets the same numbers from both tools:
 * - a file is "checked" when it is listed (a backup: every file of its manifest; an archive id:
 *   every stored complete segment, duplicates included);
 * - `missing` counts files that were listed but were gone when read (for WAL, expire may have
 *   removed them meanwhile: a warning, not an error); absent WAL between segments is reported as
 *   missing ranges instead;
 * - `checksumInvalid`: the SHA-1 is not the recorded one (`rck` of the stored bytes, when the
 *   manifest has one, then `checksum` of the content; for WAL, the SHA-1 in the file's name);
 * - `sizeInvalid`: the size is not the recorded one (`repo-size`, then `size`; for WAL, the
 *   segment size);
 * - `other`: the file could not be read or decompressed.
 * pgkeep checks more than pgBackRest 2.45 does; those findings are in fields of their own
 * (missing ranges, duplicates, partial segments, history files, the WAL each backup needs,
 * problems) so the counters stay comparable.
 */

export type VerifyStatus = 'ok' | 'error';

export type FileReason = 'missing' | 'checksumInvalid' | 'sizeInvalid' | 'other';

/** Why a file is not valid: missing, or another reason with what was found. */
export type Verdict =
  { readonly reason: 'missing' } | { readonly reason: Exclude<FileReason, 'missing'>; readonly detail: string };

export interface FileCounts {
  missing: number;
  checksumInvalid: number;
  sizeInvalid: number;
  other: number;
}

export interface InvalidFile {
  /** Repository path relative to the stanza's backup or archive directory, e.g. `20261121-065013F/pg_data/base/5/1259.lz4`. */
  readonly file: string;
  /** For backup files: the manifest name, e.g. `pg_data/base/5/1259`. */
  readonly name?: string;
  readonly reason: FileReason;
  /** What was found, e.g. the error that stopped decompression. */
  readonly detail?: string;
}

/** One of a pair of info files (`backup.info`, `backup.info.copy`, ...). */
export interface InfoFileState {
  /** Repository path, relative to the repository. */
  readonly file: string;
  readonly status: 'ok' | 'missing' | 'invalid';
  readonly error?: string;
}

export interface InfoPairReport {
  readonly main: InfoFileState;
  readonly copy: InfoFileState;
  /** Both loaded and are byte-identical; null when one of them did not load. */
  readonly match: boolean | null;
}

export interface ArchiveReport {
  /** `<version>-<history id>`, e.g. `15-1`. */
  readonly archiveId: string;
  /** WAL segment size of the archive id, from the headers of its valid segments (16 MiB when none is valid). */
  segmentSize: number;
  /** Complete segments listed (pgBackRest's "total WAL checked"). */
  walChecked: number;
  /** Complete segments verified valid (pgBackRest's "total valid WAL"). */
  walValid: number;
  /** Counters of invalid complete segments. */
  readonly counts: FileCounts;
  /** Complete segments that failed, with their reason (partial ones too, flagged). */
  readonly invalidFiles: (InvalidFile & { readonly partial?: boolean })[];
  /** Unbroken runs of present segments per timeline. */
  ranges: WalRange[];
  /** Segments absent between the oldest and newest segment of a timeline. */
  missingRanges: MissingRange[];
  /** Segments stored more than once (archive-get refuses them; they are not verified). */
  readonly duplicates: string[];
  /** `.partial` segments (the end of a timeline cut short by a promotion): not part of the ranges. */
  partialChecked: number;
  partialValid: number;
  /** Timeline history files read and parsed. */
  historyChecked: number;
  readonly historyInvalid: InvalidFile[];
  /** History files of timelines with archived WAL that are not in the archive (a warning: recovery across the switch needs them). */
  readonly historyMissing: string[];
}

/**
 * - valid: every file and every WAL segment the backup needs passed;
 * - invalid: something failed (files, WAL, manifest, consistency with backup.info);
 * - manifest missing: neither backup.manifest nor its copy exists (an error when backup.info lists the backup);
 * - in-progress: the newest backup, not in backup.info and without backup.manifest: skipped.
 */
export type BackupStatus = 'valid' | 'invalid' | 'manifest missing' | 'in-progress';

export interface BackupWalReport {
  /** Segments from archive start to archive stop. */
  readonly needed: number;
  /** Of those, present once and valid. */
  readonly valid: number;
  /** Runs of needed segments absent from the archive. */
  readonly missing: WalRange[];
  /** Needed segments present but invalid or stored more than once. */
  readonly invalid: string[];
}

export interface BackupReport {
  readonly label: string;
  type: BackupType | null;
  status: BackupStatus;
  /** Listed in backup.info (a backup directory that is not is reported with a warning). */
  readonly inBackupInfo: boolean;
  /** Manifest files (pgBackRest's "total files checked"). */
  filesChecked: number;
  /** Manifest files verified valid (pgBackRest's "total valid files"). */
  filesValid: number;
  readonly counts: FileCounts;
  readonly invalidFiles: InvalidFile[];
  archiveId: string | null;
  archiveStart: string | null;
  archiveStop: string | null;
  /** The WAL the backup needs to be consistent; null for offline backups and unusable manifests. */
  wal: BackupWalReport | null;
  /** Errors other than files: manifest unusable or not matching backup.info, ... */
  readonly problems: string[];
}

export interface VerifyReport {
  readonly stanza: string;
  /** The N of repoN. */
  readonly repo: number;
  status: VerifyStatus;
  /** `--set`: only this backup and the WAL it needs were verified. */
  readonly set: string | null;
  readonly info: { backupInfo: InfoPairReport; archiveInfo: InfoPairReport };
  readonly archives: ArchiveReport[];
  readonly backups: BackupReport[];
  /** Errors about the repository as a whole (info files, history, archive ids). */
  readonly problems: string[];
  /** Findings that do not make the repository invalid (a missing copy, a backup directory not in backup.info, ...). */
  readonly warnings: string[];
}

export function emptyCounts(): FileCounts {
  return { missing: 0, checksumInvalid: 0, sizeInvalid: 0, other: 0 };
}

export function newArchiveReport(archiveId: string, segmentSize: number): ArchiveReport {
  return {
    archiveId,
    segmentSize,
    walChecked: 0,
    walValid: 0,
    counts: emptyCounts(),
    invalidFiles: [],
    ranges: [],
    missingRanges: [],
    duplicates: [],
    partialChecked: 0,
    partialValid: 0,
    historyChecked: 0,
    historyInvalid: [],
    historyMissing: [],
  };
}

export function newBackupReport(label: string, inBackupInfo: boolean): BackupReport {
  return {
    label,
    type: null,
    status: 'valid',
    inBackupInfo,
    filesChecked: 0,
    filesValid: 0,
    counts: emptyCounts(),
    invalidFiles: [],
    archiveId: null,
    archiveStart: null,
    archiveStop: null,
    wal: null,
    problems: [],
  };
}

/** Whether an archive id has anything that makes the repository invalid (missing WAL listed but gone is only a warning). */
export function archiveHasErrors(archive: ArchiveReport): boolean {
  const { checksumInvalid, sizeInvalid, other } = archive.counts;
  return (
    checksumInvalid + sizeInvalid + other > 0 ||
    archive.missingRanges.length > 0 ||
    archive.duplicates.length > 0 ||
    archive.invalidFiles.some((file) => file.partial === true && file.reason !== 'missing') ||
    archive.historyInvalid.length > 0
  );
}

export function backupHasErrors(backup: BackupReport): boolean {
  return backup.status === 'invalid' || (backup.status === 'manifest missing' && backup.inBackupInfo);
}

/** The status rule: `error` when anything is wrong, and then the command exits non-zero. */
export function reportStatus(report: Pick<VerifyReport, 'archives' | 'backups' | 'problems'>): VerifyStatus {
  const bad = report.problems.length > 0 || report.archives.some(archiveHasErrors) || report.backups.some(backupHasErrors);
  return bad ? 'error' : 'ok';
}

/** Human wording of a reason, as pgBackRest logs it. */
export function reasonText(reason: FileReason): string {
  switch (reason) {
    case 'missing':
      return 'file missing';
    case 'checksumInvalid':
      return 'invalid checksum';
    case 'sizeInvalid':
      return 'invalid size';
    case 'other':
      return 'invalid result';
  }
}
