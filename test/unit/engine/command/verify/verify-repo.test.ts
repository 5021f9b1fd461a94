import { randomBytes } from 'node:crypto';
import { symlinkSync } from 'node:fs';

import { afterEach, describe, expect, it } from 'vitest';

import { verifyRepo, type VerifyOptions } from '../../../../../engine/command/verify/verify-repo.js';
import type { VerifyReport } from '../../../../../engine/command/verify/verify-report.js';
import { renderVerifyText } from '../../../../../engine/command/verify/verify-text.js';
import { backupFilePath, FakeRepo, inProcess, makeSegment, SEGMENT_SIZE, segmentName, sha1 } from './fake-repo.js';

const repos: FakeRepo[] = [];
afterEach(() => {
  for (const repo of repos.splice(0)) repo.destroy();
});

async function fakeRepo(): Promise<FakeRepo> {
  const repo = await FakeRepo.create();
  repos.push(repo);
  return repo;
}

const options = (extra: Partial<VerifyOptions> = {}): VerifyOptions => ({ workers: inProcess, processMax: 2, ...extra });

const FULL = '20261121-065013F';
const INCR = '20261121-065013F_20261121-065016I';
const DIFF = '20261121-065013F_20261121-065020D';

/** A full backup (WAL 2) and an incremental one (WAL 4), WAL 1 to 5 archived. */
async function twoBackups(repo: FakeRepo) {
  await repo.pushWals(1, 5);
  const full = await repo.addBackup({
    label: FULL,
    archiveStart: segmentName(1, 2),
    archiveStop: segmentName(1, 2),
    files: [
      { name: 'pg_data/PG_VERSION', content: Buffer.from('15\n') },
      { name: 'pg_data/base/1/1259' },
      { name: 'pg_data/base/1/1249' },
      { name: 'pg_data/base/1/2608' },
      { name: 'pg_data/base/1/13394', content: Buffer.alloc(0) },
    ],
  });
  const incr = await repo.addBackup({
    label: INCR,
    prior: full,
    archiveStart: segmentName(1, 4),
    archiveStop: segmentName(1, 4),
    files: [
      { name: 'pg_data/PG_VERSION', reference: true },
      { name: 'pg_data/base/1/1259', reference: true },
      { name: 'pg_data/base/1/1249', content: Buffer.from('changed\n'.repeat(1000)) },
      { name: 'pg_data/base/1/2608', reference: true },
      { name: 'pg_data/base/1/13394', reference: true },
    ],
  });
  return { full, incr };
}

function backup(report: VerifyReport, label: string) {
  return report.backups.find((item) => item.label === label)!;
}

describe('verifyRepo on a sound repository', () => {
  it('finds every file and segment valid, with the segment size from the WAL headers', async () => {
    const repo = await fakeRepo();
    await twoBackups(repo);
    const report = await verifyRepo(repo.repo, options());
    expect(report.status).toBe('ok');
    expect(report.problems).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.archives).toHaveLength(1);
    const archive = report.archives[0]!;
    expect(archive).toMatchObject({ archiveId: '15-1', segmentSize: SEGMENT_SIZE, walChecked: 5, walValid: 5 });
    expect(archive.ranges).toEqual([{ timeline: 1, start: segmentName(1, 1), stop: segmentName(1, 5) }]);
    expect(archive.missingRanges).toEqual([]);
    expect(backup(report, FULL)).toMatchObject({ status: 'valid', filesChecked: 5, filesValid: 5, type: 'full' });
    expect(backup(report, INCR)).toMatchObject({ status: 'valid', filesChecked: 5, filesValid: 5, type: 'incr' });
    expect(backup(report, INCR).wal).toEqual({ needed: 1, valid: 1, missing: [], invalid: [] });
    expect(report.info.backupInfo).toEqual({
      main: { file: 'backup/main/backup.info', status: 'ok' },
      copy: { file: 'backup/main/backup.info.copy', status: 'ok' },
      match: true,
    });
    expect(renderVerifyText(report, false)).toBe('');
    expect(renderVerifyText(report, true)).toBe(
      [
        'stanza: main',
        'status: ok',
        '  archiveId: 15-1, total WAL checked: 5, total valid WAL: 5',
        '    missing: 0, checksum invalid: 0, size invalid: 0, other: 0',
        `  backup: ${FULL}, status: valid, total files checked: 5, total valid files: 5`,
        '    missing: 0, checksum invalid: 0, size invalid: 0, other: 0',
        `  backup: ${INCR}, status: valid, total files checked: 5, total valid files: 5`,
        '    missing: 0, checksum invalid: 0, size invalid: 0, other: 0',
      ].join('\n'),
    );
  });
});

describe('verifyRepo finds damage', () => {
  it('in backup files: bit flip, truncation, deletion; and a file the incremental references is invalid there too', async () => {
    const repo = await fakeRepo();
    const { full } = await twoBackups(repo);
    repo.flip(backupFilePath(full, 'pg_data/base/1/1259'));
    repo.truncate(backupFilePath(full, 'pg_data/base/1/1249'));
    repo.remove(backupFilePath(full, 'pg_data/base/1/2608'));
    // The stored empty stream of a zero-length file must exist when the backup is not bundled
    repo.remove(backupFilePath(full, 'pg_data/base/1/13394'));
    const report = await verifyRepo(repo.repo, options());
    expect(report.status).toBe('error');
    const fullReport = backup(report, FULL);
    expect(fullReport).toMatchObject({ status: 'invalid', filesChecked: 5, filesValid: 1 });
    expect(fullReport.counts).toEqual({ missing: 2, checksumInvalid: 2, sizeInvalid: 0, other: 0 });
    expect(fullReport.invalidFiles.map((file) => [file.name, file.reason])).toEqual([
      ['pg_data/base/1/1249', 'checksumInvalid'],
      ['pg_data/base/1/1259', 'checksumInvalid'],
      ['pg_data/base/1/13394', 'missing'],
      ['pg_data/base/1/2608', 'missing'],
    ]);
    // 1249 was copied again by the incremental: only the referenced files are bad there
    const incrReport = backup(report, INCR);
    expect(incrReport).toMatchObject({ status: 'invalid', filesChecked: 5, filesValid: 2 });
    expect(incrReport.invalidFiles.map((file) => [file.file, file.reason])).toEqual([
      [`${FULL}/pg_data/base/1/1259.lz4`, 'checksumInvalid'],
      [`${FULL}/pg_data/base/1/13394.lz4`, 'missing'],
      [`${FULL}/pg_data/base/1/2608.lz4`, 'missing'],
    ]);
    expect(renderVerifyText(report, false)).toBe(
      [
        'stanza: main',
        'status: error',
        `  backup: ${FULL}, status: invalid, total files checked: 5, total valid files: 1`,
        '    missing: 2, checksum invalid: 2',
        `  backup: ${INCR}, status: invalid, total files checked: 5, total valid files: 2`,
        '    missing: 2, checksum invalid: 1',
      ].join('\n'),
    );
  });

  it('in WAL: a gap, a bit flip, a segment that does not match its name, a short segment', async () => {
    const repo = await fakeRepo();
    await twoBackups(repo);
    const paths = await repo.pushWals(6, 9);
    repo.remove((await repo.pushWals(2, 2))[0]!);
    repo.remove(paths[1]!); // 7
    repo.flip(paths[2]!); // 8: lz4 cannot decompress it
    // 10: stored without compression, one byte changed: its content no longer has the SHA-1 of its name
    const plain = await repo.pushWal(segmentName(1, 10), { compressType: 'none' });
    repo.flip(plain, 100);
    // 11: the SHA-1 of its name is its own, but it is half a segment
    const short = makeSegment(segmentName(1, 11)).subarray(0, SEGMENT_SIZE / 2);
    await repo.pushWal(segmentName(1, 11), { content: short });
    const report = await verifyRepo(repo.repo, options());
    const archive = report.archives[0]!;
    expect(archive).toMatchObject({ walChecked: 9, walValid: 6, segmentSize: SEGMENT_SIZE });
    expect(archive.counts).toEqual({ missing: 0, checksumInvalid: 1, sizeInvalid: 1, other: 1 });
    expect(archive.missingRanges).toEqual([
      { timeline: 1, start: segmentName(1, 2), stop: segmentName(1, 2), segments: 1 },
      { timeline: 1, start: segmentName(1, 7), stop: segmentName(1, 7), segments: 1 },
    ]);
    expect(archive.ranges.map((range) => [range.start, range.stop])).toEqual([
      [segmentName(1, 1), segmentName(1, 1)],
      [segmentName(1, 3), segmentName(1, 6)],
      [segmentName(1, 8), segmentName(1, 11)],
    ]);
    // The full backup needs segment 2: it is not consistent
    expect(backup(report, FULL)).toMatchObject({ status: 'invalid', filesValid: 5 });
    expect(backup(report, FULL).wal).toEqual({
      needed: 1,
      valid: 0,
      missing: [{ timeline: 1, start: segmentName(1, 2), stop: segmentName(1, 2) }],
      invalid: [],
    });
    expect(backup(report, INCR).status).toBe('valid');
    expect(renderVerifyText(report, false)).toBe(
      [
        'stanza: main',
        'status: error',
        '  archiveId: 15-1, total WAL checked: 9, total valid WAL: 6',
        '    checksum invalid: 1, size invalid: 1, other: 1',
        `    missing range: ${segmentName(1, 2)} (1 segment)`,
        `    missing range: ${segmentName(1, 7)} (1 segment)`,
        `  backup: ${FULL}, status: invalid, total files checked: 5, total valid files: 5`,
        `    wal missing: ${segmentName(1, 2)}`,
      ].join('\n'),
    );
  });

  it('a backup whose WAL is damaged or stored twice is not consistent; duplicates are not verified', async () => {
    const repo = await fakeRepo();
    await twoBackups(repo);
    // Segment 4 a second time, with other content: archive-get would refuse it
    await repo.pushWal(segmentName(1, 4), { content: makeSegment(segmentName(1, 4)).fill(7, 1000, 2000) });
    repo.flip(await repo.walPath(segmentName(1, 2)));
    const report = await verifyRepo(repo.repo, options());
    const archive = report.archives[0]!;
    expect(archive.duplicates).toEqual([segmentName(1, 4)]);
    expect(archive).toMatchObject({ walChecked: 6, walValid: 3 });
    expect(archive.missingRanges).toEqual([]);
    expect(backup(report, FULL).wal?.invalid).toEqual([segmentName(1, 2)]);
    expect(backup(report, INCR).wal?.invalid).toEqual([segmentName(1, 4)]);
    expect(renderVerifyText(report, false)).toContain(`    duplicate: ${segmentName(1, 4)}`);
    expect(renderVerifyText(report, false)).toContain(`    wal invalid: ${segmentName(1, 4)}`);
  });
});

describe('verifyRepo reads every way a file is stored', () => {
  it('bundles: files at their offset, zero-length files stored nowhere and skipped', async () => {
    const repo = await fakeRepo();
    await repo.pushWals(1, 2);
    const manifest = await repo.addBackup({
      label: FULL,
      bundle: true,
      archiveStart: segmentName(1, 2),
      archiveStop: segmentName(1, 2),
      files: [
        { name: 'pg_data/PG_VERSION', content: Buffer.from('15\n') },
        { name: 'pg_data/base/1/1259' },
        { name: 'pg_data/base/1/13394', content: Buffer.alloc(0) },
        { name: 'pg_data/base/1/2608' },
      ],
    });
    const clean = await verifyRepo(repo.repo, options());
    expect(backup(clean, FULL)).toMatchObject({ status: 'valid', filesChecked: 4, filesValid: 4 });
    // Damage the middle file of the bundle: only that one is invalid
    const middle = manifest.files.get('pg_data/base/1/1259')!;
    repo.flip(`backup/main/${FULL}/bundle/1`, middle.bundleOffset! + 5);
    const damaged = await verifyRepo(repo.repo, options());
    expect(backup(damaged, FULL)).toMatchObject({ status: 'invalid', filesValid: 3 });
    expect(backup(damaged, FULL).invalidFiles).toEqual([
      expect.objectContaining({ name: 'pg_data/base/1/1259', file: `${FULL}/bundle/1`, reason: 'checksumInvalid' }),
    ]);
    // A bundle cut short: the files past the cut are short too
    repo.truncate(`backup/main/${FULL}/bundle/1`);
    const truncated = await verifyRepo(repo.repo, options());
    expect(backup(truncated, FULL).counts.checksumInvalid).toBeGreaterThan(0);
  });

  it.each(['none', 'gz'] as const)('compress type %s: flips and truncations are found', async (compressType) => {
    const repo = await fakeRepo();
    await repo.pushWals(1, 2);
    const manifest = await repo.addBackup({
      label: FULL,
      compressType,
      archiveStart: segmentName(1, 2),
      archiveStop: segmentName(1, 2),
      files: [
        { name: 'pg_data/base/1/1259' },
        { name: 'pg_data/base/1/2608' },
        { name: 'pg_data/base/1/13394', content: Buffer.alloc(0) },
      ],
    });
    expect(backup(await verifyRepo(repo.repo, options()), FULL).status).toBe('valid');
    repo.flip(backupFilePath(manifest, 'pg_data/base/1/1259'));
    repo.truncate(backupFilePath(manifest, 'pg_data/base/1/2608'));
    const report = await verifyRepo(repo.repo, options());
    const reasons = backup(report, FULL).invalidFiles.map((file) => file.reason);
    // Without rck (none) the content checksum tells, with it (gz) the checksum of the stored bytes
    expect(reasons).toEqual(['checksumInvalid', 'checksumInvalid']);
  });

  it('a stored file with the right rck but the wrong content (the manifest checksum) is invalid', async () => {
    const repo = await fakeRepo();
    const manifest = await repo.addBackup({
      label: FULL,
      files: [{ name: 'pg_data/base/1/1259' }, { name: 'pg_data/base/1/2608' }],
    });
    // What the manifest records is not what was stored: pgBackRest (rck only) would call it valid
    manifest.files.get('pg_data/base/1/1259')!.checksum = sha1(Buffer.from('something else'));
    manifest.files.get('pg_data/base/1/2608')!.size += 1;
    const { saveManifestFile } = await import('../../../../../engine/repo/manifest/manifest.js');
    await saveManifestFile(repo.storage, `backup/main/${FULL}/backup.manifest`, manifest);
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).invalidFiles.map((file) => [file.name, file.reason])).toEqual([
      ['pg_data/base/1/1259', 'checksumInvalid'],
      ['pg_data/base/1/2608', 'sizeInvalid'],
    ]);
  });

  it('a damaged repo-size with a matching rck is a size error', async () => {
    const repo = await fakeRepo();
    const manifest = await repo.addBackup({ label: FULL, files: [{ name: 'pg_data/base/1/1259' }] });
    manifest.files.get('pg_data/base/1/1259')!.sizeRepo += 1;
    const { saveManifestFile } = await import('../../../../../engine/repo/manifest/manifest.js');
    await saveManifestFile(repo.storage, `backup/main/${FULL}/backup.manifest`, manifest);
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).counts).toEqual({ missing: 0, checksumInvalid: 0, sizeInvalid: 1, other: 0 });
  });
});

describe('verifyRepo on block-incremental files', () => {
  async function blockIncrRepo(keepRck: boolean) {
    const repo = await fakeRepo();
    const manifest = await repo.addBackup({ label: FULL, files: [{ name: 'pg_data/base/1/1259' }] });
    const file = manifest.files.get('pg_data/base/1/1259')!;
    const stored = repo.read(backupFilePath(manifest, file.name));
    Object.assign(file, { blockIncrSize: 8192 * 16, blockIncrMapSize: 10 });
    if (!keepRck) file.checksumRepo = undefined;
    manifest.blockIncremental = true;
    repo.write(backupFilePath(manifest, file.name), stored);
    const { saveManifestFile } = await import('../../../../../engine/repo/manifest/manifest.js');
    await saveManifestFile(repo.storage, `backup/main/${FULL}/backup.manifest`, manifest);
    return { repo, manifest };
  }

  it('checks the stored bytes of a .pgbi file against rck (its content is not a plain stream)', async () => {
    const { repo, manifest } = await blockIncrRepo(true);
    expect(backupFilePath(manifest, 'pg_data/base/1/1259')).toMatch(/\.pgbi$/);
    expect(backup(await verifyRepo(repo.repo, options()), FULL)).toMatchObject({ status: 'valid', filesValid: 1 });
  });

  it('cannot verify a .pgbi file without rck: other', async () => {
    const { repo } = await blockIncrRepo(false);
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).invalidFiles).toEqual([
      expect.objectContaining({ reason: 'other', detail: expect.stringContaining('block incremental') }),
    ]);
  });
});

describe('verifyRepo on partial segments and timelines', () => {
  it('verifies .partial segments apart from the ranges, and each timeline on its own', async () => {
    const repo = await fakeRepo();
    await repo.pushWals(1, 5);
    await repo.pushWal(`${segmentName(1, 6)}.partial`);
    const badPartial = await repo.pushWal(`${segmentName(1, 7)}.partial`);
    repo.flip(badPartial);
    await repo.pushWals(6, 8, 2);
    repo.write('archive/main/15-1/00000002.history', '1\t0/6000000\tno recovery target specified\n');
    repo.write('archive/main/15-1/00000003.history', 'not a history file\n');
    repo.write('archive/main/15-1/00000004.history', '5\t0/6000000\tlater than itself\n');
    await repo.pushWals(9, 9, 5);
    const report = await verifyRepo(repo.repo, options());
    const archive = report.archives[0]!;
    expect(archive).toMatchObject({ walChecked: 9, walValid: 9, partialChecked: 2, partialValid: 1, historyChecked: 3 });
    expect(archive.ranges).toEqual([
      { timeline: 1, start: segmentName(1, 1), stop: segmentName(1, 5) },
      { timeline: 2, start: segmentName(2, 6), stop: segmentName(2, 8) },
      { timeline: 5, start: segmentName(5, 9), stop: segmentName(5, 9) },
    ]);
    expect(archive.missingRanges).toEqual([]);
    expect(archive.historyInvalid.map((file) => file.file)).toEqual(['15-1/00000003.history', '15-1/00000004.history']);
    expect(archive.historyMissing).toEqual(['00000005.history']);
    expect(report.warnings).toEqual(["archiveId '15-1' has WAL of timeline 5 but not its history file 00000005.history"]);
    const text = renderVerifyText(report, false);
    expect(text).toContain(`    partial invalid: 15-1/0000000100000000/${badPartial.split('/').at(-1)} (invalid result)`);
    expect(text).toContain('    history file invalid: 15-1/00000003.history');
    expect(report.status).toBe('error');
  });
});

describe('verifyRepo checks info files and manifests', () => {
  it('reports a missing copy and a copy that differs as warnings, a damaged file as a problem', async () => {
    const repo = await fakeRepo();
    await twoBackups(repo);
    repo.remove('backup/main/backup.info.copy');
    repo.flip('archive/main/archive.info', 10);
    repo.write(`backup/main/${INCR}/backup.manifest.copy`, repo.read(`backup/main/${FULL}/backup.manifest`));
    repo.remove(`backup/main/${FULL}/backup.manifest`);
    const report = await verifyRepo(repo.repo, options());
    expect(report.info.backupInfo.copy.status).toBe('missing');
    expect(report.info.archiveInfo.main.status).toBe('invalid');
    expect(report.problems).toEqual([expect.stringMatching(/^'archive\/main\/archive.info' is not valid: /)]);
    expect(report.warnings).toEqual([
      "'backup/main/backup.info.copy' is missing",
      `'backup/main/${FULL}/backup.manifest' is missing: 'backup/main/${FULL}/backup.manifest.copy' was used`,
      `'backup/main/${INCR}/backup.manifest.copy' does not match 'backup/main/${INCR}/backup.manifest'`,
    ]);
    // The archive was still verified from archive.info.copy, the backups from the manifests that load
    expect(report.archives[0]?.walValid).toBe(5);
    expect(report.backups.map((item) => item.status)).toEqual(['valid', 'valid']);
    expect(renderVerifyText(report, false).split('\n').slice(0, 3)).toEqual([
      'stanza: main',
      'status: error',
      `  'archive/main/archive.info' is not valid: ${report.info.archiveInfo.main.error}`,
    ]);
  });

  it('goes on without backup.info, and says so', async () => {
    const repo = await fakeRepo();
    await twoBackups(repo);
    repo.remove('backup/main/backup.info');
    repo.remove('backup/main/backup.info.copy');
    const report = await verifyRepo(repo.repo, options());
    expect(report.problems).toEqual(['No usable backup.info file']);
    expect(report.backups.map((item) => [item.label, item.status, item.inBackupInfo])).toEqual([
      [FULL, 'valid', false],
      [INCR, 'valid', false],
    ]);
  });

  it('goes on without archive.info, and says so', async () => {
    const repo = await fakeRepo();
    await twoBackups(repo);
    repo.remove('archive/main/archive.info');
    repo.remove('archive/main/archive.info.copy');
    const report = await verifyRepo(repo.repo, options());
    expect(report.problems).toEqual(['No usable archive.info file']);
    expect(report.archives[0]?.walValid).toBe(5);
    expect(backup(report, FULL).archiveId).toBe('15-1');
  });

  it('finds archive.info and backup.info describing different clusters', async () => {
    const repo = await fakeRepo();
    await twoBackups(repo);
    repo.archiveInfo.history[0] = { id: 1, systemId: 1n, version: '15' };
    await repo.saveInfo();
    const report = await verifyRepo(repo.repo, options());
    expect(report.problems).toEqual([
      expect.stringMatching(
        /^backup info file and archive info file do not match: archive: id 1, version '15' and system-id '1', backup: id 1/,
      ),
      'archive and backup history lists do not match',
    ]);
  });

  it('finds archive ids that archive.info does not know', async () => {
    const repo = await fakeRepo();
    await repo.pushWals(1, 2);
    await repo.pushWal(segmentName(1, 1), { archiveId: '16-2' });
    await repo.pushWal(segmentName(1, 1), { archiveId: '14-1' });
    const report = await verifyRepo(repo.repo, options());
    expect(report.problems).toEqual(["archiveIds '14-1, 16-2' are not in the archive.info history list"]);
    // In pgBackRest's order: by history id
    expect(report.archives.map((archive) => archive.archiveId)).toEqual(['14-1', '15-1', '16-2']);
  });

  it('judges backups by their manifests: missing, damaged, not matching backup.info, of another database', async () => {
    const repo = await fakeRepo();
    const { full } = await twoBackups(repo);
    // A diff whose manifest and copy are both damaged
    const diff = await repo.addBackup({
      label: DIFF,
      prior: full,
      type: 'diff',
      files: [{ name: 'pg_data/PG_VERSION', reference: true }],
    });
    repo.flip(`backup/main/${DIFF}/backup.manifest`, 20);
    repo.flip(`backup/main/${DIFF}/backup.manifest.copy`, 20);
    // backup.info says the incremental is a differential one
    repo.backupInfo.backups.find((entry) => entry.label === INCR)!.type = 'diff';
    // backup.info has other WAL and another prior for the full backup
    Object.assign(
      repo.backupInfo.backups.find((entry) => entry.label === FULL)!,
      { archiveStop: null, prior: FULL },
    );
    // backup.info lists a backup that is gone
    repo.backupInfo.backups.push({ ...repo.backupInfo.backups[0]!, label: '20261120-000000F' });
    repo.backupInfo.backups.sort((a, b) => (a.label < b.label ? -1 : 1));
    await repo.saveInfo();
    const report = await verifyRepo(repo.repo, options());
    expect(report.backups.map((item) => [item.label, item.status])).toEqual([
      ['20261120-000000F', 'manifest missing'],
      [FULL, 'invalid'],
      [INCR, 'invalid'],
      [DIFF, 'invalid'],
    ]);
    expect(backup(report, '20261120-000000F').problems).toEqual(['backup.info lists the backup but its manifest is missing']);
    expect(backup(report, INCR).problems).toEqual(["manifest type 'incr' does not match backup.info 'diff'"]);
    expect(backup(report, FULL).problems).toEqual([
      `manifest prior 'none' does not match backup.info '${FULL}'`,
      `manifest archive stop '${segmentName(1, 2)}' does not match backup.info 'none'`,
    ]);
    expect(backup(report, DIFF).problems).toEqual([
      expect.stringMatching(/backup.manifest' is not valid/),
      expect.stringMatching(/backup.manifest.copy' is not valid/),
      'no usable manifest',
    ]);
    expect(diff.backup.label).toBe(DIFF);
    expect(renderVerifyText(report, false)).toContain(
      `  backup: 20261120-000000F, status: manifest missing, total files checked: 0, total valid files: 0\n    backup.info lists the backup but its manifest is missing`,
    );
  });

  it('skips a backup of a database that is not in the history', async () => {
    const repo = await fakeRepo();
    const manifest = await repo.addBackup({ label: FULL, files: [{ name: 'pg_data/PG_VERSION' }], inBackupInfo: false });
    manifest.db.systemId = 42n;
    const { saveManifestFile } = await import('../../../../../engine/repo/manifest/manifest.js');
    await saveManifestFile(repo.storage, `backup/main/${FULL}/backup.manifest`, manifest);
    await repo.addBackup({ label: INCR, prior: manifest, files: [], inBackupInfo: false });
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL)).toMatchObject({ status: 'invalid', filesChecked: 0 });
    expect(backup(report, FULL).problems[0]).toMatch(
      /^PG data \(id 1, version '15' and system-id '42'\) is not in the backup.info history/,
    );
    expect(backup(report, INCR).problems).toEqual(['manifest does not contain any target files to verify']);
    expect(report.warnings).toEqual([
      `backup '${FULL}' is in the repository but not in backup.info`,
      `backup '${INCR}' is in the repository but not in backup.info`,
    ]);
  });

  it('skips the newest backup while it runs (no backup.manifest yet, not in backup.info), and shows it only with --verbose', async () => {
    const repo = await fakeRepo();
    await twoBackups(repo);
    await repo.addBackup({ label: DIFF, type: 'diff', files: [{ name: 'pg_data/PG_VERSION' }], inBackupInfo: false });
    repo.remove(`backup/main/${DIFF}/backup.manifest`);
    // An older directory without any manifest and not in backup.info: reported, not an error
    await repo.storage.pathCreate(`backup/main/20261120-000000F`);
    const report = await verifyRepo(repo.repo, options());
    expect(report.status).toBe('ok');
    expect(backup(report, DIFF)).toMatchObject({ status: 'in-progress', filesChecked: 0 });
    expect(backup(report, '20261120-000000F').status).toBe('manifest missing');
    expect(renderVerifyText(report, true)).toContain(
      `  backup: ${DIFF}, status: in-progress, total files checked: 0, total valid files: 0`,
    );
  });

  it('reports an encrypted backup.info read without a passphrase as not valid, saying why', async () => {
    const repo = await fakeRepo();
    repo.write('backup/main/backup.info', Buffer.concat([Buffer.from('Salted__'), Buffer.alloc(40, 1)]));
    const report = await verifyRepo(repo.repo, options());
    expect(report.status).not.toBe('ok');
    expect(report.problems.join('\n')).toContain("backup.info' is encrypted, but repo-cipher-type is none");
  });
});

describe('verifyRepo --set', () => {
  it('verifies one backup and only the WAL from its archive start to its archive stop', async () => {
    const repo = await fakeRepo();
    await twoBackups(repo);
    repo.flip(await repo.walPath(segmentName(1, 5)));
    const report = await verifyRepo(repo.repo, options({ set: INCR }));
    expect(report.set).toBe(INCR);
    expect(report.status).toBe('ok');
    expect(report.backups.map((item) => item.label)).toEqual([INCR]);
    expect(report.archives).toEqual([expect.objectContaining({ archiveId: '15-1', walChecked: 1, walValid: 1 })]);
    // Referenced files are read where they are stored
    expect(backup(report, INCR)).toMatchObject({ filesChecked: 5, filesValid: 5 });
  });

  it('verifies an offline backup without WAL', async () => {
    const repo = await fakeRepo();
    await repo.pushWals(1, 2);
    await repo.addBackup({ label: FULL, files: [{ name: 'pg_data/PG_VERSION' }] });
    const report = await verifyRepo(repo.repo, options({ set: FULL }));
    expect(report.archives).toEqual([]);
    expect(backup(report, FULL)).toMatchObject({ status: 'valid', wal: null });
  });

  it('refuses a backup that does not exist', async () => {
    const repo = await fakeRepo();
    await expect(verifyRepo(repo.repo, options({ set: FULL }))).rejects.toMatchObject({ errorName: 'BackupSetInvalid' });
  });
});

describe('verifyRepo on an empty stanza', () => {
  it('says there is nothing, as pgBackRest does', async () => {
    const repo = await fakeRepo();
    const report = await verifyRepo(repo.repo, options());
    expect(report.status).toBe('ok');
    expect(renderVerifyText(report, true)).toBe('stanza: main\nstatus: ok\n    no archives or backups exist in the repo');
  });

  it('renders WAL without backups exactly as pgBackRest 2.45 does', async () => {
    const repo = await fakeRepo();
    await repo.pushWals(1, 16);
    const report = await verifyRepo(repo.repo, options({ processMax: 3 }));
    expect(renderVerifyText(report, true)).toBe(
      [
        'stanza: main',
        'status: ok',
        '  archiveId: 15-1, total WAL checked: 16, total valid WAL: 16',
        '    missing: 0, checksum invalid: 0, size invalid: 0, other: 0',
        '  backup: none found',
      ].join('\n'),
    );
  });

  it('renders backups without WAL as pgBackRest does', async () => {
    const repo = await fakeRepo();
    await repo.addBackup({ label: FULL, files: [{ name: 'pg_data/PG_VERSION' }] });
    const report = await verifyRepo(repo.repo, options());
    expect(renderVerifyText(report, true).split('\n').slice(0, 3)).toEqual([
      'stanza: main',
      'status: ok',
      '  archiveId: none found',
    ]);
  });
});

describe('verifyRepo in unusual cases', () => {
  it('finds a backup inconsistent when its archive id has no WAL at all', async () => {
    const repo = await fakeRepo();
    await repo.addBackup({
      label: FULL,
      archiveStart: segmentName(1, 2),
      archiveStop: segmentName(1, 3),
      files: [{ name: 'pg_data/PG_VERSION' }],
    });
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).wal).toEqual({
      needed: 2,
      valid: 0,
      missing: [{ timeline: 1, start: segmentName(1, 2), stop: segmentName(1, 3) }],
      invalid: [],
    });
    expect(renderVerifyText(report, false)).toContain(`    wal missing: ${segmentName(1, 2)}-${segmentName(1, 3)}`);
  });

  it('finds a manifest whose archive stop comes before its start', async () => {
    const repo = await fakeRepo();
    await repo.pushWals(1, 3);
    await repo.addBackup({
      label: FULL,
      archiveStart: segmentName(1, 3),
      archiveStop: segmentName(1, 2),
      files: [{ name: 'pg_data/PG_VERSION' }],
    });
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).status).toBe('invalid');
    expect(backup(report, FULL).problems).toEqual([
      expect.stringMatching(/^archive start and stop are not valid: backup archive stop/),
    ]);
  });

  it('reports partial segments stored twice as duplicates too', async () => {
    const repo = await fakeRepo();
    await repo.pushWals(1, 2);
    await repo.pushWal(`${segmentName(1, 3)}.partial`);
    await repo.pushWal(`${segmentName(1, 3)}.partial`, { content: makeSegment(segmentName(1, 3)).fill(1, 100, 200) });
    const report = await verifyRepo(repo.repo, options());
    expect(report.archives[0]).toMatchObject({
      duplicates: [`${segmentName(1, 3)}.partial`],
      walChecked: 2,
      partialChecked: 2,
      partialValid: 0,
    });
    expect(report.status).toBe('error');
  });

  it('takes WAL removed while verify runs (expire) as a warning, not an error', async () => {
    const repo = await fakeRepo();
    const paths = await repo.pushWals(1, 3);
    const { inProcessWorker } = await import('../../../../../engine/exec/in-process.js');
    const { handler } = await import('../../../../../engine/command/verify/verify-file.js');
    const expiring: VerifyOptions['workers'] = {
      spawn: inProcessWorker({
        'verify-file': ((job: { files: { path: string }[] }, context: never) => {
          if (job.files.some((file) => file.path.endsWith(paths[0]!))) repo.remove(paths[0]!);
          return handler(job as never, context);
        }) as never,
      }),
    };
    const report = await verifyRepo(repo.repo, options({ workers: expiring }));
    expect(report.archives[0]).toMatchObject({ walChecked: 3, walValid: 2 });
    expect(report.archives[0]!.counts.missing).toBe(1);
    expect(report.status).toBe('ok');
  });

  it('takes the segment size most headers agree on; a segment of another size is invalid', async () => {
    const repo = await fakeRepo();
    await repo.pushWals(1, 3);
    const other = makeSegment(segmentName(1, 4), 2 * SEGMENT_SIZE);
    other.writeUInt32LE(2 * SEGMENT_SIZE, 32);
    await repo.pushWal(segmentName(1, 4), { content: other });
    // Content that is not WAL at all, under the right name: its header says nothing, its size is right
    await repo.pushWal(segmentName(1, 5), { content: Buffer.alloc(SEGMENT_SIZE) });
    const report = await verifyRepo(repo.repo, options());
    expect(report.archives[0]).toMatchObject({ segmentSize: SEGMENT_SIZE, walChecked: 5, walValid: 4 });
    expect(report.archives[0]!.invalidFiles).toEqual([
      expect.objectContaining({ reason: 'sizeInvalid', detail: `${2 * SEGMENT_SIZE} bytes, not ${SEGMENT_SIZE}` }),
    ]);
  });

  it.each(['lz4', 'none'] as const)('reports a file that cannot be read (%s) as other', async (compressType) => {
    const repo = await fakeRepo();
    const manifest = await repo.addBackup({
      label: FULL,
      compressType,
      files: [{ name: 'pg_data/base/1/1259' }, { name: 'pg_data/PG_VERSION' }],
    });
    const path = backupFilePath(manifest, 'pg_data/base/1/1259');
    repo.remove(path);
    await repo.storage.pathCreate(path);
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).invalidFiles).toEqual([
      expect.objectContaining({ reason: 'other', detail: expect.stringContaining('is a directory') }),
    ]);
  });

  it('finds a manifest label that is not its directory, for a backup not in backup.info', async () => {
    const repo = await fakeRepo();
    const manifest = await repo.addBackup({ label: FULL, files: [{ name: 'pg_data/PG_VERSION' }], inBackupInfo: false });
    const { saveManifestFile } = await import('../../../../../engine/repo/manifest/manifest.js');
    await saveManifestFile(repo.storage, `backup/main/${FULL}/backup.manifest`, {
      ...manifest,
      backup: { ...manifest.backup, label: DIFF },
    });
    await repo.addBackup({ label: INCR, files: [{ name: 'pg_data/PG_VERSION' }] });
    const report = await verifyRepo(repo.repo, options());
    // Its files are still looked for in its own directory
    expect(backup(report, FULL)).toMatchObject({ status: 'invalid', filesValid: 1 });
    expect(backup(report, FULL).problems).toEqual([`manifest label '${DIFF}' is not its directory's`]);
  });

  it('reports an encrypted manifest read without a passphrase as not valid, saying why', async () => {
    const repo = await fakeRepo();
    await repo.addBackup({ label: FULL, files: [{ name: 'pg_data/PG_VERSION' }] });
    repo.write(`backup/main/${FULL}/backup.manifest`, Buffer.concat([Buffer.from('Salted__'), Buffer.alloc(40, 1)]));
    const report = await verifyRepo(repo.repo, options());
    expect(report.backups[0]!.problems.join('\n')).toContain("backup.manifest' is encrypted, but repo-cipher-type is none");
  });

  it('lists an empty archive id without counters', async () => {
    const repo = await fakeRepo();
    await repo.storage.pathCreate('archive/main/15-1/0000000100000000');
    await repo.addBackup({ label: FULL, files: [{ name: 'pg_data/PG_VERSION' }] });
    const report = await verifyRepo(repo.repo, options());
    expect(renderVerifyText(report, true).split('\n').slice(2, 4)).toEqual([
      '  archiveId: 15-1, total WAL checked: 0, total valid WAL: 0',
      `  backup: ${FULL}, status: valid, total files checked: 1, total valid files: 1`,
    ]);
  });
});

describe('verifyRepo and names that are not segments for the segment size', () => {
  it('leaves them out of the ranges (a 1 MiB xlogid has segments 000 to FFF only)', async () => {
    const repo = await fakeRepo();
    await repo.pushWals(1, 2);
    await repo.pushWal('000000010000000000001000');
    const report = await verifyRepo(repo.repo, options());
    expect(report.archives[0]).toMatchObject({ walChecked: 3, walValid: 3 });
    expect(report.archives[0]!.ranges).toEqual([{ timeline: 1, start: segmentName(1, 1), stop: segmentName(1, 2) }]);
  });
});

describe('verifyRepo reads large files as streams and small ones in one call', () => {
  // Incompressible: what is stored is as large as the content
  const random = (size: number) => randomBytes(size);

  it('streams files larger than 1 MiB, finding a flip there too, and reads gz-compressed WAL headers', async () => {
    const repo = await fakeRepo();
    for (let segment = 1; segment <= 3; segment++) await repo.pushWal(segmentName(1, segment), { compressType: 'gz' });
    const manifest = await repo.addBackup({
      label: FULL,
      archiveStart: segmentName(1, 2),
      archiveStop: segmentName(1, 2),
      files: [
        { name: 'pg_data/base/1/big', content: random(3 * SEGMENT_SIZE) },
        { name: 'pg_data/base/1/big2', content: random(2 * SEGMENT_SIZE + 1) },
      ],
    });
    const clean = await verifyRepo(repo.repo, options());
    expect(clean.status).toBe('ok');
    expect(clean.archives[0]!.segmentSize).toBe(SEGMENT_SIZE);
    repo.flip(backupFilePath(manifest, 'pg_data/base/1/big'));
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).invalidFiles).toEqual([
      expect.objectContaining({ name: 'pg_data/base/1/big', reason: 'checksumInvalid' }),
    ]);
  });

  it('streams large files without compression, in bundles and block-incremental ones', async () => {
    const repo = await fakeRepo();
    const plain = await repo.addBackup({
      label: FULL,
      compressType: 'none',
      files: [{ name: 'pg_data/base/1/big', content: random(2 * SEGMENT_SIZE) }],
    });
    await repo.addBackup({
      label: DIFF,
      type: 'full',
      bundle: true,
      files: [{ name: 'pg_data/PG_VERSION' }, { name: 'pg_data/base/1/big', content: random(SEGMENT_SIZE + 100) }],
    });
    const pgbi = await repo.addBackup({
      label: INCR,
      type: 'full',
      files: [{ name: 'pg_data/base/1/big', content: random(3 * SEGMENT_SIZE) }],
    });
    const file = pgbi.files.get('pg_data/base/1/big')!;
    const stored = repo.read(backupFilePath(pgbi, file.name));
    Object.assign(file, { blockIncrSize: 8192 * 16, blockIncrMapSize: 10 });
    repo.write(backupFilePath(pgbi, file.name), stored);
    const { saveManifestFile } = await import('../../../../../engine/repo/manifest/manifest.js');
    await saveManifestFile(repo.storage, `backup/main/${INCR}/backup.manifest`, pgbi);
    expect((await verifyRepo(repo.repo, options())).backups.map((item) => [item.label, item.status, item.filesValid])).toEqual([
      [FULL, 'valid', 1],
      [INCR, 'valid', 1],
      [DIFF, 'valid', 2],
    ]);
    // A large file without compression that cannot be opened: other
    const path = backupFilePath(plain, 'pg_data/base/1/big');
    repo.remove(path);
    symlinkSync(repo.path(path), repo.path(path));
    expect(backup(await verifyRepo(repo.repo, options()), FULL).invalidFiles).toEqual([
      expect.objectContaining({ reason: 'other' }),
    ]);
  });

  it('streams a small file that grew larger than the manifest says', async () => {
    const repo = await fakeRepo();
    const manifest = await repo.addBackup({ label: FULL, files: [{ name: 'pg_data/PG_VERSION' }] });
    const path = backupFilePath(manifest, 'pg_data/PG_VERSION');
    repo.write(path, Buffer.concat([repo.read(path), Buffer.alloc(2 * SEGMENT_SIZE)]));
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).invalidFiles).toEqual([expect.objectContaining({ reason: 'checksumInvalid' })]);
  });

  it.each(['lz4', 'gz'] as const)('reports %s files under a path that is not a directory as missing', async (compressType) => {
    const repo = await fakeRepo();
    const manifest = await repo.addBackup({ label: FULL, compressType, files: [{ name: 'pg_data/base/1/1259' }] });
    const path = backupFilePath(manifest, 'pg_data/base/1/1259');
    const dir = path.slice(0, path.lastIndexOf('/'));
    repo.remove(dir);
    repo.write(dir, 'a file where the directory was');
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).invalidFiles).toEqual([expect.objectContaining({ reason: 'missing' })]);
  });

  it.each(['lz4', 'gz'] as const)('reports %s files that cannot be opened (a link to itself) as other', async (compressType) => {
    const repo = await fakeRepo();
    const manifest = await repo.addBackup({ label: FULL, compressType, files: [{ name: 'pg_data/base/1/1259' }] });
    const path = backupFilePath(manifest, 'pg_data/base/1/1259');
    repo.remove(path);
    symlinkSync(repo.path(path), repo.path(path));
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).invalidFiles).toEqual([
      expect.objectContaining({ reason: 'other', detail: expect.stringMatching(/ELOOP|too many/i) }),
    ]);
  });

  it('reports a gz file that is a directory as other (neither read works)', async () => {
    const repo = await fakeRepo();
    const manifest = await repo.addBackup({ label: FULL, compressType: 'gz', files: [{ name: 'pg_data/base/1/1259' }] });
    const path = backupFilePath(manifest, 'pg_data/base/1/1259');
    repo.remove(path);
    await repo.storage.pathCreate(path);
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).invalidFiles).toEqual([
      expect.objectContaining({ reason: 'other', detail: expect.stringContaining('is a directory') }),
    ]);
  });

  it('reports a large lz4 file that cannot be decompressed by its rck, like pgBackRest', async () => {
    const repo = await fakeRepo();
    const manifest = await repo.addBackup({
      label: FULL,
      files: [{ name: 'pg_data/base/1/big', content: random(3 * SEGMENT_SIZE) }],
    });
    const path = backupFilePath(manifest, 'pg_data/base/1/big');
    // Damage the frame header: nothing decodes, the stored bytes are still measured
    repo.flip(path, 4);
    const report = await verifyRepo(repo.repo, options());
    expect(backup(report, FULL).invalidFiles).toEqual([expect.objectContaining({ reason: 'checksumInvalid' })]);
  });
});
