import { toPgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import type { ArchiveResult } from './verify-archive.js';
import { DEFAULT_WAL_SEGMENT_SIZE } from './verify-archive.js';
import type { BackupReport } from './verify-report.js';
import { backupWalSegments, formatRange, segmentRuns } from './wal-ranges.js';

/**
 * A backup is consistent only with every WAL segment from its archive start to its archive stop
 * (what pgBackRest 2.45 leaves as "???" in its verify): each must be in the backup's archive id,
 * stored once, and valid. Offline backups need none. Sets `report.wal` and makes the backup
 * invalid when something is missing. Backups without a usable manifest have no archive start.
 */
export function checkBackupWal(report: BackupReport, archives: ReadonlyMap<string, ArchiveResult>): void {
  if (report.archiveStart === null || report.archiveStop === null || report.archiveId === null) return;
  const archive = archives.get(report.archiveId);
  const segmentSize = archive?.report.segmentSize ?? DEFAULT_WAL_SEGMENT_SIZE;
  let needed: string[];
  try {
    needed = backupWalSegments(report.archiveStart, report.archiveStop, segmentSize);
  } catch (error) {
    report.problems.push(`archive start and stop are not valid: ${toPgkeepError(error).message}`);
    report.status = 'invalid';
    return;
  }
  const missing: string[] = [];
  const invalid: string[] = [];
  for (const segment of needed) {
    const state = archive?.segments.get(segment);
    if (state === undefined) missing.push(segment);
    else if (state !== 'valid') invalid.push(segment);
  }
  report.wal = {
    needed: needed.length,
    valid: needed.length - missing.length - invalid.length,
    missing: segmentRuns(missing, segmentSize),
    invalid,
  };
  if (missing.length + invalid.length === 0) return;
  report.status = 'invalid';
  const parts = [
    ...report.wal.missing.map((range) => `${formatRange(range)} missing`),
    ...invalid.map((segment) => `${segment} ${archive?.segments.get(segment) === 'duplicate' ? 'duplicate' : 'invalid'}`),
  ];
  log.info(`backup '${report.label}' is not consistent: WAL ${parts.join(', ')} in archive '${report.archiveId}'`);
}
