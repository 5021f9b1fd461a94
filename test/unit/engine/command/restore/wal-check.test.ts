import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { executeRestore } from '../../../../../engine/command/restore/execute.js';
import { planRestore } from '../../../../../engine/command/restore/plan.js';
import { formatTargetTime } from '../../../../../engine/command/restore/recovery-target.js';
import { WalArchive } from '../../../../../engine/command/restore/wal-archive.js';
import { checkWal, type WalCheckInput } from '../../../../../engine/command/restore/wal-check.js';
import { lsnFormat } from '../../../../../engine/postgres/lsn.js';
import { formatSegmentName } from '../../../../../engine/postgres/wal.js';
import { IN_PROCESS, SYSTEM_ID, TestRepo, UID } from './fixture.js';
import { WalBuilder } from './wal-builder.js';

const MIB = 1024 * 1024;
const seg = (timeline: number, number: number) => formatSegmentName(timeline, number, MIB);
/** Backup stop at 2027-01-15 08:00:10 UTC; transactions after it. */
const STOP = 1_800_000_010;
const micros = (seconds: number) => BigInt(seconds) * 1_000_000n;

interface History {
  readonly a: bigint;
  readonly point: bigint;
  readonly b: bigint;
  readonly end: bigint;
}

/**
 * WAL of 1 MiB segments 2 and 3: the backup's records, transaction A (xid 100) at STOP+10 s, restore
 * point 'rp' at STOP+11 s, then in segment 3 transaction B (xid 101) at STOP+20 s.
 */
function writeWal(repo: TestRepo, options: { skip?: number[]; timeline?: number } = {}): History {
  const wal = new WalBuilder(MIB, 3, { firstSegment: 2, timeline: options.timeline ?? 1 });
  wal.filler(300); // the backup, up to its stop lsn 0/200100
  const a = wal.commit(100, micros(STOP + 10));
  const point = wal.restorePoint('rp', micros(STOP + 11));
  wal.filler(MIB - 1000);
  const b = wal.commit(101, micros(STOP + 20));
  wal.walSwitch();
  const end = wal.lsn; // the end of the switch record: the end of valid WAL
  let number = 2;
  for (const [name, content] of wal.build()) {
    if (number <= 3 && !(options.skip ?? []).includes(number)) repo.segment(name, content);
    number++;
  }
  return { a, point, b, end };
}

describe('WAL checks of a restore plan', () => {
  let repo: TestRepo;
  let history: History;
  let archive: WalArchive;

  const check = (overrides: Partial<WalCheckInput>) =>
    checkWal({
      archive,
      segmentSize: MIB,
      backup: {
        label: '20270115-080000F',
        archiveStart: seg(1, 2),
        archiveStop: seg(1, 2),
        lsnStop: '0/200100',
        timestampStop: STOP,
      },
      type: 'default',
      target: undefined,
      targetExclusive: false,
      targetTimeline: undefined,
      ...overrides,
    });

  beforeEach(async () => {
    repo = await new TestRepo().init();
    history = writeWal(repo);
    archive = await WalArchive.open([repo.repo], { systemId: SYSTEM_ID, version: '15' });
  });
  afterEach(() => repo.remove());

  it('default: recovery replays to the end of the archive', async () => {
    const result = await check({});
    expect(result.problems).toEqual([]);
    expect(result.wal).toMatchObject({
      backupTimeline: 1,
      targetTimeline: 1,
      timelines: [1],
      archiveIds: ['15-1'],
      consistency: { first: seg(1, 2), last: seg(1, 2) },
      needed: { first: seg(1, 2), last: seg(1, 3), count: 2 },
      endOfArchive: { segment: seg(1, 3), lsn: lsnFormat(history.end), lastCommitTime: STOP + 20, gapBefore: null },
      missing: [],
      complete: true,
      target: { status: 'reachable', recoverable: { from: '0/200100', to: lsnFormat(history.end) } },
    });
  });

  it('immediate, standby, none: the backup alone', async () => {
    for (const type of ['immediate', 'standby', 'none'] as const) {
      const result = await check({ type });
      expect(result.wal).toMatchObject({ needed: { last: seg(1, 2), count: 1 }, target: { status: 'reachable' } });
    }
  });

  it('time: before the last commit is reachable, after it or before the backup ended is not', async () => {
    const between = await check({ type: 'time', target: formatTargetTime(STOP + 15) });
    expect(between.wal.target).toMatchObject({
      status: 'reachable',
      recoverable: { from: formatTargetTime(STOP), to: formatTargetTime(STOP + 20) },
    });
    const exactlyInclusive = await check({ type: 'time', target: formatTargetTime(STOP + 20) });
    expect(exactlyInclusive.problems).toMatchObject([
      {
        error: 'RecoveryTargetUnreachable',
        message: expect.stringContaining('is not before the last transaction in the archive'),
      },
    ]);
    const exactlyExclusive = await check({ type: 'time', target: formatTargetTime(STOP + 20), targetExclusive: true });
    expect(exactlyExclusive.wal.target.status).toBe('reachable');
    const early = await check({ type: 'time', target: formatTargetTime(STOP - 5) });
    expect(early.problems).toMatchObject([
      { error: 'RecoveryTargetUnreachable', message: expect.stringContaining('is not after the end of backup') },
    ]);
    const unread = await check({ type: 'time', target: 'next tuesday' });
    expect(unread.wal.target.status).toBe('unchecked');
    const local = await check({ type: 'time', target: '2027-01-15 09:00:15' });
    expect(local.notes).toEqual([expect.stringContaining('has no time zone')]);
  });

  it('lsn: within the archived WAL is reachable, after it or before the backup ended is not', async () => {
    const within = await check({ type: 'lsn', target: lsnFormat(history.a + 10n) });
    expect(within.wal).toMatchObject({ needed: { last: seg(1, 2), count: 1 }, target: { status: 'reachable' } });
    const after = await check({ type: 'lsn', target: '0/500000' });
    expect(after.problems).toMatchObject([
      { error: 'RecoveryTargetUnreachable', message: expect.stringContaining('is after the end of the archived WAL') },
    ]);
    const before = await check({ type: 'lsn', target: '0/200000' });
    expect(before.problems).toMatchObject([
      { error: 'RecoveryTargetUnreachable', message: expect.stringContaining('is before the end of backup') },
    ]);
  });

  it('name and xid: looked for in the WAL', async () => {
    const found = await check({ type: 'name', target: 'rp' });
    expect(found).toMatchObject({
      found: history.point,
      problems: [],
      wal: { target: { status: 'reachable', detail: `restore point 'rp' is at lsn ${lsnFormat(history.point)}` } },
    });
    const missing = await check({ type: 'name', target: 'nope' });
    expect(missing.problems).toMatchObject([
      { error: 'RecoveryTargetUnreachable', message: expect.stringContaining("restore point 'nope' is not in the archived WAL") },
    ]);
    const xid = await check({ type: 'xid', target: '101' });
    expect(xid).toMatchObject({ found: history.b, wal: { needed: { last: seg(1, 3) } } });
    const epochXid = await check({ type: 'xid', target: String((1n << 32n) + 100n) });
    expect(epochXid.found).toBe(history.a);
    expect((await check({ type: 'xid', target: '999' })).wal.target.status).toBe('unreachable');
    expect((await check({ type: 'xid', target: 'abc' })).wal.target.status).toBe('unchecked');
    const limited = await check({ type: 'name', target: 'rp', searchLimit: 1 });
    expect(limited.wal.target.status).toBe('unchecked');
    expect(limited.notes[0]).toContain('was not looked for');
    const beforeBackup = await check({
      type: 'name',
      target: 'rp',
      backup: {
        label: 'late',
        archiveStart: seg(1, 2),
        archiveStop: seg(1, 2),
        lsnStop: lsnFormat(history.b),
        timestampStop: STOP,
      },
    });
    expect(beforeBackup.problems).toMatchObject([{ message: expect.stringContaining('is before the end of backup late') }]);
  });

  it('a segment the backup needs is missing: it cannot become consistent', async () => {
    repo.remove();
    repo = await new TestRepo().init();
    writeWal(repo, { skip: [2] });
    archive = await WalArchive.open([repo.repo], { systemId: SYSTEM_ID, version: '15' });
    const result = await check({});
    expect(result.problems).toMatchObject([
      { error: 'ArchiveNotFound', message: expect.stringContaining(`WAL segment ${seg(1, 2)} needed to make backup`) },
    ]);
    expect(result.wal).toMatchObject({ missing: [seg(1, 2)], complete: false, endOfArchive: null });
  });

  it('a gap in the archive: named when the target lies past it', async () => {
    repo.segment(seg(1, 5), Buffer.alloc(16));
    archive = await WalArchive.open([repo.repo], { systemId: SYSTEM_ID, version: '15' });
    const result = await check({});
    expect(result.wal.endOfArchive!.gapBefore).toBe(seg(1, 4));
    expect(result.warnings).toEqual([
      expect.stringContaining(`WAL segment ${seg(1, 4)} is missing from the archive although later WAL is archived`),
    ]);
    const late = await check({ type: 'time', target: formatTargetTime(STOP + 100) });
    expect(late.problems).toMatchObject([{ error: 'ArchiveNotFound' }]);
    expect(late.wal.missing).toEqual([seg(1, 4)]);
  });

  it('timelines: latest follows the history files, a timeline that is not a descendant or left too early is refused', async () => {
    // Timeline 2 branched from 1 at 0/380000 (in segment 3); its copy of segment 3 holds the rest
    repo.history(2, '1\t0/380000\tno recovery target specified\n');
    for (const [name, content] of new WalBuilder(MIB, 2, { firstSegment: 3, timeline: 2 }).build(2)) repo.segment(name, content);
    archive = await WalArchive.open([repo.repo], { systemId: SYSTEM_ID, version: '15' });
    const latest = await check({});
    expect(latest.wal).toMatchObject({ targetTimeline: 2, timelines: [1, 2], endOfArchive: { segment: seg(2, 4) } });
    expect((await check({ targetTimeline: 'current' })).wal.targetTimeline).toBe(1);
    const unknown = await check({ targetTimeline: '3' });
    expect(unknown.problems).toMatchObject([
      { message: 'target timeline 3 is not in the archive: it has no 00000003.history file' },
    ]);
    repo.history(3, '2\t0/380000\tforked\n');
    archive = await WalArchive.open([repo.repo], { systemId: SYSTEM_ID, version: '15' });
    expect((await check({ targetTimeline: '3' })).problems[0]!.message).toContain('does not descend from timeline 1');
    repo.history(4, '1\t0/200080\tearly\n');
    archive = await WalArchive.open([repo.repo], { systemId: SYSTEM_ID, version: '15' });
    expect((await check({ targetTimeline: '0x4' })).problems[0]!.message).toContain(
      'left timeline 1 at lsn 0/200080, before the backup ended',
    );
  });

  it('a time target with no commit after the backup', async () => {
    repo.remove();
    repo = await new TestRepo().init();
    const wal = new WalBuilder(MIB, 1, { firstSegment: 2 });
    wal.commit(4, micros(STOP - 200)); // during the backup: before its stop lsn
    wal.filler(300);
    for (const [name, content] of wal.build()) repo.segment(name, content);
    archive = await WalArchive.open([repo.repo], { systemId: SYSTEM_ID, version: '15' });
    const result = await check({ type: 'time', target: formatTargetTime(STOP + 5) });
    expect(result.problems[0]!.message).toContain('no transaction ended after backup 20270115-080000F in the archived WAL');
  });

  it('an abort or a prepared transaction ends a time target too; prepared ones leave an xid target unchecked', async () => {
    repo.remove();
    repo = await new TestRepo().init();
    const wal = new WalBuilder(MIB, 1, { firstSegment: 2 });
    wal.filler(300);
    wal.commit(7, micros(STOP + 30), { abort: true });
    const main = Buffer.alloc(16);
    main.writeBigInt64LE(micros(STOP + 40) - 946_684_800_000_000n);
    wal.record(1, 0x30, 0, main); // COMMIT PREPARED
    for (const [name, content] of wal.build()) repo.segment(name, content);
    archive = await WalArchive.open([repo.repo], { systemId: SYSTEM_ID, version: '15' });
    expect((await check({ type: 'time', target: formatTargetTime(STOP + 35) })).wal.target.status).toBe('reachable');
    const xid = await check({ type: 'xid', target: '8' });
    expect(xid.wal.target.status).toBe('unchecked');
    expect(xid.notes[0]).toContain('prepared transactions');
  });

  it('a repository whose archive cannot be read is a warning', async () => {
    const broken = await WalArchive.open([{ ...repo.repo, stanza: 'missing' }], { systemId: SYSTEM_ID, version: '15' });
    expect(broken.warnings[0]).toMatch(/^repo1: archive cannot be read/);
  });

  describe('in a plan', () => {
    const plan = (overrides: Parameters<TestRepo['request']>[1]) =>
      planRestore(repo.request(repo.dir('data'), overrides), { workers: IN_PROCESS, uid: UID });
    const online = {
      online: true,
      walSegmentSize: MIB,
      archiveStart: seg(1, 2),
      archiveStop: seg(1, 2),
      lsnStop: '0/200100',
      timestampStop: STOP,
    } as const;

    it('uses the segment size of the backup, and a restore point picks the newest backup before it', async () => {
      await repo.backup({ label: '20270115-080000F', files: {}, ...online });
      await repo.backup({
        label: '20270115-090000F',
        files: {},
        ...online,
        lsnStop: lsnFormat(history.b),
        timestampStop: STOP + 30,
      });
      const latest = await plan({});
      expect(latest.json.backup!.label).toBe('20270115-090000F');
      expect(latest.json.wal!.segmentSize).toBe(MIB);
      const named = await plan({ type: 'name', target: 'rp', typeGiven: true });
      expect(named.json).toMatchObject({ ok: true, backup: { label: '20270115-080000F', selectedBy: 'target' } });
      expect(named.json.recovery.settings.map((setting) => setting.key)).toEqual(['restore_command', 'recovery_target_name']);
      await executeRestore(named, { workers: IN_PROCESS, uid: UID });
      const byLsn = await plan({ type: 'lsn', target: lsnFormat(history.a), typeGiven: true });
      expect(byLsn.json.backup!.label).toBe('20270115-080000F');
    });

    it('assumes 16 MiB segments when the backup has no readable pg_control', async () => {
      await repo.backup({ label: '20270115-080000F', files: { 'pg_data/global/pg_control': 'not a pg_control' }, ...online });
      const planned = await plan({});
      expect(planned.json.warnings).toContainEqual(expect.stringContaining('pg_control of the backup could not be read'));
      expect(planned.json.wal!.segmentSize).toBe(16 * MIB);
    });
  });
});
