import type { ArchiveReport, BackupReport, FileCounts, VerifyReport } from './verify-report.js';
import { reasonText } from './verify-report.js';
import { formatRange } from './wal-ranges.js';

/**
 * The report in pgBackRest 2.45's text layout (command/verify/verify.c verifyRender): nothing when
 * all is well and --verbose is not given; otherwise the stanza and status, then one line per
 * archive id and per backup with its counters. Without --verbose only what failed is listed, and
 * only the non-zero counters. pgkeep's own findings (missing WAL ranges, duplicates, the WAL a
 * backup needs, problems) are extra lines under their archive id or backup, present only when
 * something is wrong, so a sound repository renders exactly as pgBackRest renders it.
 */
export function renderVerifyText(report: VerifyReport, verbose: boolean): string {
  if (!verbose && report.status === 'ok') return '';
  let body = '';
  for (const problem of report.problems) body += `\n  ${problem}`;
  if (report.archives.length === 0 && report.backups.length === 0) {
    // pgBackRest says so only when the info files are sound (else it does not look)
    if (report.problems.length === 0) body += '\n    no archives or backups exist in the repo';
  } else {
    if (verbose && report.archives.length === 0) body += '\n  archiveId: none found';
    for (const archive of report.archives) body += renderArchive(archive, verbose);
    if (verbose && report.backups.length === 0) body += '\n  backup: none found';
    for (const backup of report.backups) body += renderBackup(backup, verbose);
  }
  return `stanza: ${report.stanza}\nstatus: ${report.status}${body}`;
}

function renderArchive(archive: ArchiveReport, verbose: boolean): string {
  const extras = [
    ...archive.missingRanges.map(
      (gap) => `missing range: ${formatRange(gap)} (${gap.segments} segment${gap.segments === 1 ? '' : 's'})`,
    ),
    ...archive.duplicates.map((name) => `duplicate: ${name}`),
    ...archive.invalidFiles
      .filter((file) => file.partial === true && file.reason !== 'missing')
      .map((file) => `partial invalid: ${file.file} (${reasonText(file.reason)})`),
    ...archive.historyInvalid.map((file) => `history file invalid: ${file.file}`),
  ];
  let text = '';
  if (verbose || archive.walChecked !== archive.walValid || extras.length > 0) {
    text += `\n  archiveId: ${archive.archiveId}, total WAL checked: ${archive.walChecked}, total valid WAL: ${archive.walValid}`;
  }
  if (archive.walChecked > 0) text += renderCounts(archive.counts, verbose);
  return text + extras.map((line) => `\n    ${line}`).join('');
}

function renderBackup(backup: BackupReport, verbose: boolean): string {
  const extras: string[] = [];
  if (backup.wal !== null && backup.wal.missing.length > 0)
    extras.push(`wal missing: ${backup.wal.missing.map(formatRange).join(', ')}`);
  if (backup.wal !== null && backup.wal.invalid.length > 0) extras.push(`wal invalid: ${backup.wal.invalid.join(', ')}`);
  extras.push(...backup.problems);
  let text = '';
  if (verbose || (backup.status !== 'valid' && backup.status !== 'in-progress') || extras.length > 0) {
    text +=
      `\n  backup: ${backup.label}, status: ${backup.status}, total files checked: ${backup.filesChecked}, ` +
      `total valid files: ${backup.filesValid}`;
  }
  if (backup.filesChecked > 0) text += renderCounts(backup.counts, verbose);
  return text + extras.map((line) => `\n    ${line}`).join('');
}

/** `missing: 0, checksum invalid: 0, size invalid: 0, other: 0`; without --verbose only the non-zero ones, or nothing. */
function renderCounts(counts: FileCounts, verbose: boolean): string {
  const parts = [
    ['missing', counts.missing],
    ['checksum invalid', counts.checksumInvalid],
    ['size invalid', counts.sizeInvalid],
    ['other', counts.other],
  ] as const;
  const shown = parts.filter(([, count]) => verbose || count > 0).map(([name, count]) => `${name}: ${count}`);
  return shown.length === 0 ? '' : `\n    ${shown.join(', ')}`;
}
