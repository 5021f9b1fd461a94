import { describe, expect, it } from 'vitest';

import { archiveScanLimit, planArchive, type ArchivePlanInput } from '../../../../../engine/command/expire/expire-archive.js';
import { PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import type { BackupInfoEntry } from '../../../../../engine/repo/info/backup-info.js';
import {
  archiveInfo,
  archiveListing,
  backupInfo,
  entry,
  F1,
  F1_D1,
  F1_I1,
  F2,
  F2_D2,
  F3,
  seg,
  series,
  stored,
  type PgVersion,
} from './fixtures.js';

const SHA1 = 'a'.repeat(40);
const file = (segment: string) => `${segment}-${SHA1}.lz4`;
const dirFile = (segment: string) => `${segment.slice(0, 16)}/${file(segment)}`;

function archivePlan(backups: BackupInfoEntry[], input: Partial<ArchivePlanInput> & { files?: string[]; history?: PgVersion[] }) {
  const history = input.history;
  return planArchive({
    backupInfo: backupInfo(backups, history),
    archiveInfo: archiveInfo(history),
    retention: 1,
    retentionType: 'full',
    timeBased: false,
    listing: new Map([['15-1', archiveListing(input.files ?? stored(1, 0, 1, 0x10))]]),
    ...input,
  });
}

const only = (plan: ReturnType<typeof archivePlan>) => {
  expect(plan.status).toBe('planned');
  expect(plan.archiveIds).toHaveLength(1);
  return plan.archiveIds[0]!;
};

describe('WAL retention', () => {
  it('keeps the WAL from the archive start of the oldest retained full, and removes what is older', () => {
    const backups = series().filter((item) => item.label >= F2);
    const plan = only(
      archivePlan(backups, { retention: 2, files: [...stored(1, 0, 1, 0x10), `${seg(1, 0, 2)}.00000028.backup`] }),
    );
    expect(plan.retentionBackup).toBe(F2);
    expect(plan.keep).toEqual([{ backup: F2, start: seg(1, 0, 0x0a), stop: null }]);
    expect(plan.removeFiles).toEqual([
      dirFile(seg(1, 0, 1)),
      dirFile(seg(1, 0, 2)),
      `0000000100000000/${seg(1, 0, 2)}.00000028.backup`,
      ...[3, 4, 5, 6, 7, 8, 9].map((n) => dirFile(seg(1, 0, n))),
    ]);
    expect(plan.removeRanges).toEqual([{ start: seg(1, 0, 1), stop: seg(1, 0, 9) }]);
    expect(plan.removeDirs).toEqual([]);
  });

  it('keeps the archive start to stop of every older backup, so each stays consistent', () => {
    const plan = only(archivePlan(series(), { retention: 1 }));
    expect(plan.retentionBackup).toBe(F3);
    expect(plan.keep.map((range) => [range.backup, range.stop === null])).toEqual([
      [F1, false],
      [F1_I1, false],
      [F1_D1, false],
      [series()[3]!.label, false],
      [F2, false],
      [F2_D2, false],
      [F3, true],
    ]);
    expect(plan.removeRanges.map((range) => range.start)).toEqual([1, 3, 5, 7, 9, 0x0b, 0x0d].map((n) => seg(1, 0, n)));
    expect(plan.removeRanges.every((range) => range.start === range.stop)).toBe(true);
  });

  it('counts full+diff backups with archive type diff, and every backup with incr', () => {
    const diff = only(archivePlan(series(), { retention: 2, retentionType: 'diff' }));
    expect(diff.retentionBackup).toBe(F2_D2);
    const incr = only(archivePlan(series(), { retention: 5, retentionType: 'incr' }));
    expect(incr.retentionBackup).toBe(F1_D1);
  });

  it('keeps all WAL with fewer backups of the type than the retention, and reports why nothing is expired', () => {
    expect(archivePlan(series(), { retention: 4 }).status).toBe('too-few-backups');
    expect(archivePlan([], { retention: 1 }).status).toBe('too-few-backups');
    expect(archivePlan(series(), { retention: undefined }).status).toBe('not-set');
    expect(archivePlan(series(), { retention: undefined, timeBased: true }).status).toBe('time-based-not-met');
  });

  it('removes whole WAL directories when nothing in them is kept, and reports the range as pgBackRest does', () => {
    const files = [...stored(1, 0, 0xfe, 0xff), ...stored(1, 1, 0, 0xff), ...stored(1, 2, 0, 8), ...stored(1, 3, 0, 1)];
    const backups = [
      entry(F1, { start: seg(1, 2, 5), stop: seg(1, 2, 6) }),
      entry(F2, { start: seg(1, 3, 0), stop: seg(1, 3, 0) }),
    ];
    const listing = archiveListing(files);
    // only the directories up to the retention backup's are listed file by file
    const partial = { ...listing, files: new Map([...listing.files].filter(([dir]) => dir <= '0000000100000002')) };
    const plan = only(archivePlan(backups, { retention: 2, listing: new Map([['15-1', partial]]) }));
    expect(plan.removeDirs).toEqual(['0000000100000000', '0000000100000001']);
    expect(plan.removeFiles).toEqual([0, 1, 2, 3, 4].map((n) => dirFile(seg(1, 2, n))));
    // the start is the last whole directory: pgBackRest's report
    expect(plan.removeRanges).toEqual([{ start: '0000000100000001', stop: seg(1, 2, 4) }]);
  });

  it('fails when a directory it must look into was not listed', () => {
    const listing = archiveListing(stored(1, 0, 1, 4));
    const bare = { ...listing, files: new Map() };
    const plan = archivePlan([entry(F1, { start: 3 })], { listing: new Map([['15-1', bare]]) });
    expect(plan.status).toBe('error');
    expect(plan.error!.errorName).toBe('Assert');
    expect(plan.error!.message).toMatch(/was not listed/);
  });

  it('removes nothing when every file is kept', () => {
    const plan = only(archivePlan([entry(F1, { start: 1 })], { files: stored(1, 0, 1, 3) }));
    expect(plan.removeFiles).toEqual([]);
    expect(plan.removeRanges).toEqual([]);
  });

  it('keeps what a newer backup needs even when its WAL starts before the retention backup (never with real WAL)', () => {
    const odd = [entry(F1, { start: 8 }), entry(`${F1}_20260102-000000I`, { start: 3, stop: 4 })];
    const plan = only(archivePlan(odd, { retention: 1, files: stored(1, 0, 1, 9) }));
    expect(plan.keep).toEqual([{ backup: F1, start: seg(1, 0, 8), stop: null }]);
    expect(plan.removeFiles).toEqual([1, 2, 5, 6, 7].map((n) => dirFile(seg(1, 0, n))));
  });

  it('keeps everything when the retention backup was taken offline (no WAL)', () => {
    const plan = only(archivePlan([entry(F1, { start: 2 }), entry(F2, { start: null })], { retention: 1 }));
    expect(plan.action).toBe('keep');
    expect(plan.retentionBackup).toBe(F2);
    expect(plan.removeFiles).toEqual([]);
  });

  it('finds the highest directory a plan may look into', () => {
    const info = backupInfo([
      entry(F1, { start: seg(1, 2, 5) }),
      entry(F2, { start: null }),
      entry(F3, { start: seg(1, 3, 1), dbId: 2 }),
    ]);
    expect(archiveScanLimit(info, '15-1')).toBe('0000000100000002');
    expect(archiveScanLimit(info, '16-2')).toBe('0000000100000003');
    expect(archiveScanLimit(info, '17-3')).toBeUndefined();
  });
});

describe('timelines', () => {
  const timelines = () => [entry(F1, { start: seg(1, 0, 3), stop: seg(1, 0, 4) }), entry(F2, { start: seg(2, 0, 8) })];
  const files = [...stored(1, 0, 1, 7), '00000002.history', ...stored(2, 0, 6, 9)];

  it('removes the WAL of an older timeline that no retained backup needs', () => {
    const plan = only(archivePlan(timelines().slice(1), { retention: 1, files }));
    expect(plan.removeDirs).toEqual(['0000000100000000']);
    expect(plan.removeFiles).toEqual([6, 7].map((n) => dirFile(seg(2, 0, n))));
    expect(plan.removeRanges).toEqual([{ start: '0000000100000000', stop: seg(2, 0, 7) }]);
    expect(plan.removeHistory).toEqual([]);
  });

  it('keeps only the start to stop of a retained backup on an older timeline beyond archive retention', () => {
    const plan = only(archivePlan(timelines(), { retention: 1, files }));
    expect(plan.removeDirs).toEqual([]);
    expect(plan.removeFiles).toEqual([
      ...[1, 2, 5, 6, 7].map((n) => dirFile(seg(1, 0, n))),
      ...[6, 7].map((n) => dirFile(seg(2, 0, n))),
    ]);
    expect(plan.removeRanges).toEqual([
      { start: seg(1, 0, 1), stop: seg(1, 0, 2) },
      { start: seg(1, 0, 5), stop: seg(2, 0, 7) },
    ]);
  });

  it('keeps the WAL of an older timeline from a retained backup on it', () => {
    const plan = only(archivePlan(timelines(), { retention: 2, files }));
    expect(plan.retentionBackup).toBe(F1);
    expect(plan.removeDirs).toEqual([]);
    expect(plan.removeFiles).toEqual([1, 2].map((n) => dirFile(seg(1, 0, n))));
  });

  it('removes timeline history files older than the retention backup timeline, as pgBackRest 2.45 does', () => {
    const backups = [entry(F1, { start: seg(3, 0, 9) })];
    const plan = only(archivePlan(backups, { files: ['00000002.history', '00000003.history', '00000004.history', 'x.history'] }));
    expect(plan.removeHistory).toEqual(['00000002.history']);
  });
});

describe('several databases (stanza-upgrade)', () => {
  const history: PgVersion[] = [
    { id: 1, version: '14' },
    { id: 2, version: '15' },
  ];
  const listing = (ids: string[]) => new Map(ids.map((id) => [id, archiveListing(stored(1, 0, 1, 0x10))]));

  it('removes the archive id of an older database without retained backups', () => {
    const plan = archivePlan([entry(F2, { start: 5, dbId: 2 }), entry(F3, { start: 8, dbId: 2 })], {
      retention: 2,
      history,
      listing: listing(['14-1', '15-2']),
    });
    expect(plan.archiveIds.map((item) => [item.archiveId, item.action, item.retentionBackup])).toEqual([
      ['14-1', 'remove', undefined],
      ['15-2', 'expire', F2],
    ]);
  });

  it('keeps the WAL of the newest backup of an older database when archive retention does not reach it', () => {
    const plan = archivePlan([entry(F1, { start: 4 }), entry(F1_I1, { start: 6 }), entry(F2, { start: 5, dbId: 2 })], {
      retention: 1,
      history,
      listing: listing(['14-1', '15-2', '13-9']),
    });
    expect(plan.archiveIds.map((item) => [item.archiveId, item.retentionBackup])).toEqual([
      ['14-1', F1],
      ['15-2', F2],
    ]);
    expect(plan.archiveIds[0]!.keep.map((range) => range.backup)).toEqual([F1]);
  });

  it("keeps the current database's archive id even without backups", () => {
    const plan = archivePlan([entry(F1, { start: 4 })], { history, listing: listing(['14-1', '15-2']) });
    expect(plan.archiveIds.map((item) => [item.archiveId, item.action])).toEqual([
      ['14-1', 'expire'],
      ['15-2', 'keep'],
    ]);
  });

  it('refuses to expire WAL when archive.info and backup.info describe different databases', () => {
    const other: PgVersion[] = [{ id: 1, version: '15', systemId: 1n }];
    expect(
      planArchive({
        backupInfo: backupInfo(series()),
        archiveInfo: archiveInfo(other),
        retention: 1,
        retentionType: 'full',
        timeBased: false,
        listing: new Map(),
      }).error!.message,
    ).toBe('archive expiration cannot continue - archive and backup history lists do not match');
    expect(archivePlan(series(), { archiveInfo: archiveInfo(history) }).error!.errorName).toBe('Format');
  });

  it('needs archive.info only when WAL is to be expired', () => {
    const missing = new PgkeepError('FileMissing', 'archive.info is missing');
    expect(archivePlan(series(), { archiveInfo: missing })).toMatchObject({ status: 'error', error: missing });
    expect(archivePlan(series(), { archiveInfo: missing, retention: undefined }).status).toBe('not-set');
  });
});
