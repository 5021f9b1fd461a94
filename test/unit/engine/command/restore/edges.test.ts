import { chownSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { executeRestore } from '../../../../../engine/command/restore/execute.js';
import { planRestore } from '../../../../../engine/command/restore/plan.js';
import { WalArchive } from '../../../../../engine/command/restore/wal-archive.js';
import { checkWal } from '../../../../../engine/command/restore/wal-check.js';
import { WalSegmentScanner, type WalTransaction } from '../../../../../engine/command/restore/wal-records.js';
import { formatTargetTime } from '../../../../../engine/command/restore/recovery-target.js';
import { saveManifestFile } from '../../../../../engine/repo/manifest/manifest.js';
import { saveBackupInfo, loadBackupInfo } from '../../../../../engine/repo/info/backup-info.js';
import { formatSegmentName } from '../../../../../engine/postgres/wal.js';
import { PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import { captureLog } from '../../exec/helpers.js';
import { IN_PROCESS, SYSTEM_ID, TestRepo, UID } from './fixture.js';
import { WalBuilder } from './wal-builder.js';

const MIB = 1024 * 1024;
const seg = (number: number, timeline = 1) => formatSegmentName(timeline, number, MIB);

describe('WAL records that do not add up are read past, not trusted', () => {
  it('origin and top-level xid ids before the main data; malformed headers give no event', () => {
    const wal = new WalBuilder();
    const time = Buffer.alloc(8);
    const good = wal.raw(1, 0, 5, Buffer.concat([Buffer.from([253, 0, 0, 252, 0, 0, 0, 0, 255, 8]), time]));
    wal.raw(1, 0, 6, Buffer.from([254, 1, 0])); // long main data length cut short
    wal.raw(1, 0, 7, Buffer.from([0, 0])); // a block header cut short
    wal.raw(1, 0, 8, Buffer.from([0, 0x10, 0, 0, 1])); // an image header cut short
    wal.raw(1, 0, 9, Buffer.from([100])); // an unknown block id
    wal.raw(1, 0, 10, Buffer.from([255, 200])); // more main data than the record holds
    wal.raw(1, 0x10, 11, Buffer.concat([Buffer.from([255, 8]), time])); // a prepare: no event
    const events: WalTransaction[] = [];
    const [name, segment] = [...wal.build()][0]!;
    const scanner = new WalSegmentScanner(name, MIB, { transaction: (record) => events.push(record) });
    scanner.push(segment);
    expect(events.map((record) => record.lsn)).toEqual([good]);
    expect(scanner.finish().records).toBe(7);
  });
});

describe('WAL checks: archives that cannot be read all the way', () => {
  let repo: TestRepo;
  beforeEach(async () => {
    repo = await new TestRepo().init();
  });
  afterEach(() => repo.remove());
  const backup = { label: 'b', archiveStart: seg(2), archiveStop: seg(2), lsnStop: '0/200100', timestampStop: 1_800_000_010 };
  const open = () => WalArchive.open([repo.repo], { systemId: SYSTEM_ID, version: '15' });

  it('no commit in the last segments: the time target is not checked', async () => {
    const wal = new WalBuilder(MIB, 19, { firstSegment: 2 });
    for (let index = 0; index < 18; index++) wal.filler(MIB - 2000);
    for (const [name, content] of wal.build()) repo.segment(name, content);
    const result = await checkWal({
      archive: await open(),
      segmentSize: MIB,
      backup,
      type: 'time',
      target: formatTargetTime(1_800_000_100),
      targetExclusive: false,
      targetTimeline: undefined,
    });
    expect(result.wal.target.status).toBe('unchecked');
    expect(result.notes).toEqual([expect.stringContaining('no commit found in the last 16 segments')]);
  });

  it('a segment that cannot be decompressed is a warning; the search is then unchecked', async () => {
    const wal = new WalBuilder(MIB, 2, { firstSegment: 2 });
    wal.filler(300);
    wal.commit(5, 1_800_000_020_000_000n);
    const [[first, content], [second]] = [...wal.build()] as [[string, Buffer], [string, Buffer]];
    repo.segment(first, content);
    writeFileSync(join(repo.repoPath, 'archive/main/15-1', second.slice(0, 16), `${second}-${'0'.repeat(40)}.gz`), 'not gzip');
    const archive = await open();
    const result = await checkWal({
      archive,
      segmentSize: MIB,
      backup,
      type: 'xid',
      target: '999',
      targetExclusive: false,
      targetTimeline: undefined,
    });
    expect(result.warnings).toEqual(expect.arrayContaining([expect.stringContaining(`WAL segment ${second} could not be read`)]));
    expect(result.wal.target.status).toBe('unchecked');
    expect(result.wal.endOfArchive!.lsn).toBe('0/400000');
  });

  it('the first copy of a segment wins; newest segments skip directories of partial files; histories are read once', async () => {
    repo.segment(seg(2), Buffer.from('a'));
    repo.segment(seg(2), Buffer.from('b'));
    const dir = join(repo.repoPath, 'archive/main/15-1', formatSegmentName(1, 4096, MIB).slice(0, 16));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${formatSegmentName(1, 4096, MIB)}.partial-${'0'.repeat(40)}`), '');
    const archive = await open();
    expect((await archive.segment(seg(2)))!.path).toMatch(/-86f7e437faa5a7fce15d1ddcb9eaeaea377667b8$/); // sha1('a')
    expect(await archive.newestSegment(1)).toBe(seg(2));
    expect(await archive.newestSegment(9)).toBeUndefined();
    repo.history(2, '1\t0/300000\tx\n');
    expect(await archive.history(2)).toHaveLength(1);
    rmSync(join(repo.repoPath, 'archive/main/15-1/00000002.history'));
    expect(await archive.history(2)).toHaveLength(1);
  });
});

describe('plan edge cases', () => {
  let repo: TestRepo;
  beforeEach(async () => {
    repo = await new TestRepo().init();
  });
  afterEach(() => repo.remove());
  const data = () => join(repo.root, 'data');
  const plan = (overrides: Parameters<TestRepo['request']>[1] = {}, uid = UID) =>
    planRestore(repo.request(join(repo.root, 'data'), overrides), { workers: IN_PROCESS, uid });

  it('a missing archive and a non-empty target are both reported, the WAL first (what the restore then names)', async () => {
    // Online, its WAL never archived; the target holds a file and --delta is not given.
    await repo.backup({ label: '20261121-040000F', online: true, files: { 'pg_data/base/1/1': 'x' } });
    mkdirSync(data());
    writeFileSync(join(data(), 'stray'), 'y');
    const planned = await plan({ type: 'default' });
    expect(planned.json.problems.map((entry) => entry.error)).toEqual(['ArchiveNotFound', 'PathNotEmpty']);
    expect(planned.json.wal).not.toBeNull();
    // A name target, which may choose another backup: the same problems.
    const named = await plan({ type: 'name', target: 'point' });
    expect(named.json.problems.map((entry) => entry.error)).toEqual(['ArchiveNotFound', 'PathNotEmpty']);
  });

  it('a cancel during the checksums ends the plan once the WAL check beside them is done', async () => {
    await repo.backup({
      label: '20261121-040000F',
      online: true,
      files: { 'pg_data/PG_VERSION': '15\n', 'pg_data/base/1/1': 'x' },
    });
    mkdirSync(join(data(), 'base/1'), { recursive: true });
    writeFileSync(join(data(), 'PG_VERSION'), '15\n');
    writeFileSync(join(data(), 'base/1/1'), 'y'); // the same size: compared by checksum
    const controller = new AbortController();
    controller.abort(new PgkeepError('Cancelled', 'restore cancelled by the test'));
    const request = repo.request(data(), { delta: true, type: 'default' });
    // The log is heard only until the plan fails: the WAL check had ended by then.
    const cancelled = await captureLog(() => planRestore(request, { workers: IN_PROCESS, uid: UID, signal: controller.signal }));
    expect(cancelled.error).toMatchObject({ message: 'restore cancelled by the test' });
    expect(cancelled.records.map((record) => record.message)).toContain('plan: WAL checked');
    // Not cancelled, the same plan has both: the WAL check's problem, and the checksum's action.
    const planned = await planRestore(request, { workers: IN_PROCESS, uid: UID });
    expect(planned.json.problems.map((entry) => entry.error)).toEqual(['ArchiveNotFound']);
    expect(planned.json.files.find((file) => file.name === 'pg_data/base/1/1')).toMatchObject({
      action: 'replace',
      reason: 'checksum differs',
    });
  });

  it('a manifest that is not the backup asked for, or has no files', async () => {
    const manifest = await repo.backup({ label: '20261121-040000F', files: {} });
    await saveManifestFile(repo.storage, 'backup/main/20261121-040000F/backup.manifest', {
      ...manifest,
      backup: { ...manifest.backup, label: '20261121-050000F' },
    });
    expect((await plan()).json.problems).toMatchObject([
      { error: 'Format', message: "requested backup '20261121-040000F' and manifest label '20261121-050000F' do not match" },
    ]);
    await saveManifestFile(repo.storage, 'backup/main/20261121-040000F/backup.manifest', { ...manifest, files: new Map() });
    expect((await plan()).json.problems).toMatchObject([{ message: "manifest of backup '20261121-040000F' has no files" }]);
    rmSync(join(repo.repoPath, 'backup/main/20261121-040000F'), { recursive: true });
    expect((await plan()).json.problems).toMatchObject([{ error: 'FileMissing' }]);
  });

  it('a backup of a PostgreSQL version pgkeep does not know is a problem', async () => {
    const manifest = await repo.backup({ label: '20261121-040000F', files: {} });
    await saveManifestFile(repo.storage, 'backup/main/20261121-040000F/backup.manifest', {
      ...manifest,
      db: { ...manifest.db, version: '11' },
    });
    expect((await plan()).json.problems).toMatchObject([{ error: 'VersionNotSupported' }]);
  });

  it('warns when the backup has no pg_control, and when owners cannot be set (not root)', async () => {
    const manifest = await repo.backup({ label: '20261121-040000F', files: {} });
    manifest.files.delete('pg_data/global/pg_control');
    manifest.files.set('pg_data/other-owner', {
      ...manifest.files.get('pg_data/PG_VERSION')!,
      name: 'pg_data/other-owner',
      user: 'nobody-here',
      group: false,
    });
    await saveManifestFile(repo.storage, 'backup/main/20261121-040000F/backup.manifest', manifest);
    repo.dir('data');
    const planned = await plan({}, 12345);
    expect(planned.json.warnings).toEqual(
      expect.arrayContaining([
        "backup does not contain 'global/pg_control': the cluster will not start",
        "unknown user 'nobody-here' in backup manifest mapped to current user",
        'unknown group in backup manifest mapped to current group',
      ]),
    );
    expect(planned.json.problems).toMatchObject([
      { error: 'PathOpen', message: expect.stringContaining('not owned by current user') },
    ]);
  });

  it('a backup set on the second repository; the latest backup from a prior cluster is refused', async () => {
    await repo.backup({ label: '20261121-040000F', files: {} });
    const empty = await new TestRepo().init();
    try {
      const planned = await planRestore(
        repo.request(repo.dir('data'), { repos: [{ ...empty.repo }, repo.repo], set: '20261121-040000F' }),
        { workers: IN_PROCESS, uid: UID },
      );
      expect(planned.json.backup).toMatchObject({ repo: 1, label: '20261121-040000F' });
    } finally {
      empty.remove();
    }
    const info = (await loadBackupInfo(repo.storage, 'backup/main/backup.info')).value;
    info.history.push({ ...info.history[0]!, id: 2 });
    info.currentId = 2;
    await saveBackupInfo(repo.storage, 'backup/main/backup.info', info);
    expect((await plan()).json.problems).toMatchObject([
      { error: 'BackupSetInvalid', message: expect.stringContaining('is from a prior version of PostgreSQL') },
    ]);
  });

  it('delta: links kept or replaced, special files removed, a tablespace version directory that is not one removed', async () => {
    const tablespace = repo.dir('ts');
    await repo.backup({
      label: '20261121-040000F',
      files: { 'pg_tblspc/16384/PG_15_202209061/5/1': 'x', 'pg_data/big': { content: Buffer.alloc(3 * MIB, 1) } },
      tablespaces: [{ oid: 16384, name: 'ts1', path: tablespace }],
      links: [{ name: 'pg_data/pg_wal', destination: repo.dir('wal') }],
    });
    const data = join(repo.root, 'data');
    await executeRestore(await plan({ linkAll: true }), { workers: IN_PROCESS, uid: UID });
    const socket = createServer().listen(join(data, 'socket'));
    await new Promise((resolve) => socket.once('listening', resolve));
    try {
      renameSync(join(tablespace, 'PG_15_202209061'), join(tablespace, 'moved'));
      symlinkSync(join(tablespace, 'moved'), join(tablespace, 'PG_15_202209061'));
      rmSync(join(data, 'pg_wal'));
      symlinkSync('/elsewhere', join(data, 'pg_wal'));
      const planned = await plan({ linkAll: true, delta: true });
      expect(planned.json.removals.map((removal) => [removal.path, removal.type, removal.reason])).toEqual([
        [join(data, 'pg_wal'), 'link', "destination changed (was '/elsewhere')"],
        [join(data, 'postgresql.auto.conf'), 'file', 'not in the backup'], // written by the first restore (type none)
        [join(data, 'socket'), 'special', 'special file'],
        [join(tablespace, 'PG_15_202209061'), 'link', 'not a directory where the backup has one'],
      ]);
      expect(planned.json.links.map((link) => [link.name, link.action])).toEqual([
        ['pg_data/pg_tblspc/16384', 'keep'],
        ['pg_data/pg_wal', 'create'],
      ]);
      expect(planned.json.files.find((file) => file.name === 'pg_data/big')).toMatchObject({ action: 'keep' });
      const { error, records } = await captureLog(() => executeRestore(planned, { workers: IN_PROCESS, uid: UID }));
      expect(error).toBeUndefined();
      // pgBackRest's lines: a link made again is one whose destination changed; the other link is just invalid.
      const removals = records.filter(
        (record) => record.level === 'detail' && /^remove (invalid|link|special)/.test(record.message),
      );
      expect(removals.map((record) => record.message)).toEqual([
        `remove link '${join(data, 'pg_wal')}' because destination changed`,
        `remove invalid file '${join(data, 'postgresql.auto.conf')}'`,
        `remove special file '${join(data, 'socket')}'`,
        `remove invalid link '${join(tablespace, 'PG_15_202209061')}'`,
      ]);
    } finally {
      socket.close();
    }
    const refused = await plan({ linkAll: true });
    expect(refused.json.problems.map((entry) => entry.error)).toContain('PathNotEmpty');
  });

  it('delta on a file link: the linked file is compared, whatever else is there is removed', async () => {
    const conf = repo.dir('conf');
    await repo.backup({
      label: '20261121-040000F',
      files: { 'pg_data/pg_hba.conf': 'trust' },
      links: [{ name: 'pg_data/pg_hba.conf', destination: join(conf, 'pg_hba.conf'), file: true }],
    });
    await executeRestore(await plan({ linkAll: true }), { workers: IN_PROCESS, uid: UID });
    const kept = await plan({ linkAll: true, delta: true });
    expect(kept.json.files.find((file) => file.name === 'pg_data/pg_hba.conf')).toMatchObject({
      action: 'keep',
      path: join(conf, 'pg_hba.conf'),
    });
    rmSync(join(conf, 'pg_hba.conf'));
    mkdirSync(join(conf, 'pg_hba.conf'));
    const replaced = await plan({ linkAll: true, delta: true });
    expect(replaced.json.removals).toEqual([
      expect.objectContaining({ path: join(data(), 'postgresql.auto.conf') }),
      { path: join(conf, 'pg_hba.conf'), type: 'path', reason: 'not a file where the backup has one' },
    ]);
    await executeRestore(replaced, { workers: IN_PROCESS, uid: UID });
    expect(readFileSync(join(conf, 'pg_hba.conf'), 'utf8')).toBe('trust');
  });

  it('says which tablespace or link a missing parent belongs to', async () => {
    await repo.backup({
      label: '20261121-040000F',
      files: {},
      tablespaces: [{ oid: 16384, name: 'ts1', path: '/nonexistent/ts' }],
      links: [{ name: 'pg_data/pg_wal', destination: '/nonexistent/wal' }],
    });
    repo.dir('data');
    const planned = await plan({ linkAll: true });
    expect(planned.json.problems.map((entry) => entry.hint)).toEqual([
      "create it first, or choose another location for tablespace 'ts1' (--tablespace-map=ts1=<path>)",
      "create it first, or choose another location for link 'pg_wal' (--link-map=pg_wal=<path>)",
    ]);
  });

  it.runIf(UID === 0)('as root, delta gives kept files back to the owner the manifest names', async () => {
    await repo.backup({ label: '20261121-040000F', files: { 'pg_data/f': 'content' } });
    const data = join(repo.root, 'data');
    await executeRestore(await plan(), { workers: IN_PROCESS, uid: UID });
    chownSync(join(data, 'f'), 1, 1);
    const planned = await plan({ delta: true });
    expect(planned.json.files.find((file) => file.name === 'pg_data/f')).toMatchObject({ action: 'keep', user: 'root' });
    await executeRestore(planned, { workers: IN_PROCESS, uid: UID });
    const { statSync } = await import('node:fs');
    expect(statSync(join(data, 'f')).uid).toBe(0);
  });
});
