import { describe, expect, it } from 'vitest';

import { newArchiveReport, newBackupReport, type VerifyReport } from '../../../../../engine/command/verify/verify-report.js';
import { renderVerifyText } from '../../../../../engine/command/verify/verify-text.js';
import { summary } from '../../../../../engine/command/verify/verify.js';

const missingInfo = { file: 'x', status: 'missing' as const };

/** The counts pgbackrest 2.45 printed for a repository with a damaged full backup and a damaged WAL segment. */
function damagedReport(): VerifyReport {
  const archive = newArchiveReport('15-1', 16 * 1024 * 1024);
  Object.assign(archive, { walChecked: 3, walValid: 2 });
  archive.counts.other = 1;
  const full = newBackupReport('20261121-065013F', true);
  Object.assign(full, { status: 'invalid', filesChecked: 964, filesValid: 961 });
  Object.assign(full.counts, { missing: 1, checksumInvalid: 2 });
  const incr = newBackupReport('20261121-065013F_20261121-065016I', true);
  Object.assign(incr, { filesChecked: 977, filesValid: 977 });
  return {
    stanza: 'main',
    repo: 1,
    status: 'error',
    set: null,
    info: {
      backupInfo: { main: missingInfo, copy: missingInfo, match: null },
      archiveInfo: { main: missingInfo, copy: missingInfo, match: null },
    },
    archives: [archive],
    backups: [full, incr],
    problems: [],
    warnings: [],
  };
}

describe('renderVerifyText', () => {
  it('renders exactly what pgbackrest 2.45 printed with --verbose', () => {
    expect(renderVerifyText(damagedReport(), true)).toBe(
      [
        'stanza: main',
        'status: error',
        '  archiveId: 15-1, total WAL checked: 3, total valid WAL: 2',
        '    missing: 0, checksum invalid: 0, size invalid: 0, other: 1',
        '  backup: 20261121-065013F, status: invalid, total files checked: 964, total valid files: 961',
        '    missing: 1, checksum invalid: 2, size invalid: 0, other: 0',
        '  backup: 20261121-065013F_20261121-065016I, status: valid, total files checked: 977, total valid files: 977',
        '    missing: 0, checksum invalid: 0, size invalid: 0, other: 0',
      ].join('\n'),
    );
  });

  it('renders exactly what pgbackrest 2.45 printed without --verbose: only what failed, only non-zero counters', () => {
    expect(renderVerifyText(damagedReport(), false)).toBe(
      [
        'stanza: main',
        'status: error',
        '  archiveId: 15-1, total WAL checked: 3, total valid WAL: 2',
        '    other: 1',
        '  backup: 20261121-065013F, status: invalid, total files checked: 964, total valid files: 961',
        '    missing: 1, checksum invalid: 2',
      ].join('\n'),
    );
  });

  it('lists problems of the repository first, and missing ranges of more than one segment as a range', () => {
    const report = damagedReport();
    report.problems.push('No usable backup.info file');
    report.archives[0]!.missingRanges.push({
      timeline: 1,
      start: '000000010000000000000002',
      stop: '000000010000000000000004',
      segments: 3,
    });
    const text = renderVerifyText(report, false);
    expect(text.split('\n')[2]).toBe('  No usable backup.info file');
    expect(text).toContain('    missing range: 000000010000000000000002-000000010000000000000004 (3 segments)');
  });
});

describe('summary', () => {
  it('counts what is wrong for the error message', () => {
    const report = damagedReport();
    report.problems.push('a', 'b');
    expect(summary(report)).toBe('2 repository problems, WAL of 1 archive id invalid or incomplete, 1 backup of 2 invalid');
  });
});

describe('renderVerifyText without info files', () => {
  it('prints only the problems when there is nothing else, as pgbackrest 2.45 does for a stanza never created', () => {
    const report = damagedReport();
    report.archives.length = 0;
    report.backups.length = 0;
    report.problems.push('No usable backup.info file', 'No usable archive.info file');
    expect(renderVerifyText(report, true)).toBe(
      'stanza: main\nstatus: error\n  No usable backup.info file\n  No usable archive.info file',
    );
  });
});
