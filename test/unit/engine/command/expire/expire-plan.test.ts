import { describe, expect, it } from 'vitest';

import { dependentChain, planExpire, type ExpireInput } from '../../../../../engine/command/expire/expire-plan.js';
import type { RetentionSettings } from '../../../../../engine/command/expire/retention.js';
import { PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import type { BackupInfoEntry } from '../../../../../engine/repo/info/backup-info.js';
import {
  ALL,
  archiveInfo,
  backupInfo,
  DAY,
  entry,
  F1,
  F1_D1,
  F1_I1,
  F1_I2,
  F2,
  F2_D2,
  F3,
  listing,
  retention,
  series,
} from './fixtures.js';

const NOW = 1_800_000_000;

function plan(
  backups: BackupInfoEntry[],
  settings: Partial<RetentionSettings>,
  extra: Partial<Omit<ExpireInput, 'retention'>> = {},
) {
  const info = extra.backupInfo ?? backupInfo(backups);
  return planExpire({
    repo: 1,
    backupInfo: info,
    archiveInfo: archiveInfo(),
    retention: retention(settings),
    now: NOW,
    listing: listing({}, { backupLabels: info.backups.map((item) => item.label) }),
    ...extra,
  });
}

const labels = (result: ReturnType<typeof plan>) => result.backupInfo.backups.map((item) => item.label);

describe('full retention by count', () => {
  it('expires nothing when there are no backups', () => {
    const result = plan([], { full: 1 });
    expect(result.expired).toEqual([]);
    expect(result.removeBackups).toEqual([]);
    expect(result.archive.status).toBe('too-few-backups');
  });

  it('expires the oldest full sets beyond the count, each with every backup that depends on it', () => {
    expect(plan(series(), { full: 2 }).expired).toEqual([{ reason: 'full', labels: [F1, F1_I1, F1_D1, F1_I2] }]);
    const one = plan(series(), { full: 1 });
    expect(one.expired).toEqual([
      { reason: 'full', labels: [F1, F1_I1, F1_D1, F1_I2] },
      { reason: 'full', labels: [F2, F2_D2] },
    ]);
    expect(labels(one)).toEqual([F3]);
    // backup directories go newest first, so an interrupted removal leaves usable sets
    expect(one.removeBackups).toEqual([F2_D2, F2, F1_I2, F1_D1, F1_I1, F1]);
  });

  it('keeps everything when the count is not reached, or not set', () => {
    expect(plan(series(), { full: 3 }).expired).toEqual([]);
    expect(plan(series(), { full: 9 }).expired).toEqual([]);
    expect(plan(series(), {}).expired).toEqual([]);
  });

  it('keeps a full backup followed only by incrementals', () => {
    const chain = [
      entry(F1, { start: 2 }),
      entry(F1_I1, { start: 4 }),
      entry(`${F1}_20260102-100000I`, { prior: F1_I1, start: 5 }),
    ];
    expect(plan(chain, { full: 1 }).expired).toEqual([]);
  });

  it('does not leave the input backup.info changed', () => {
    const info = backupInfo(series());
    plan([], { full: 1 }, { backupInfo: info });
    expect(info.backups.map((item) => item.label)).toEqual(ALL);
  });
});

describe('differential retention', () => {
  it('counts full backups as differential but expires only differential ones, with their incrementals', () => {
    expect(plan(series(), { full: 9, diff: 1 }).expired).toEqual([
      { reason: 'diff', labels: [F1_D1, F1_I2] },
      { reason: 'diff', labels: [F2_D2] },
    ]);
    // F1, D1, F2, D2, F3 with diff=3: F1 and D1 are beyond it, and only D1 goes
    expect(plan(series(), { full: 9, diff: 3 }).expired).toEqual([{ reason: 'diff', labels: [F1_D1, F1_I2] }]);
    expect(plan(series(), { full: 9, diff: 5 }).expired).toEqual([]);
  });

  it('applies after full retention, also without it', () => {
    const result = plan(series(), { full: 2, diff: 1 });
    expect(result.expired).toEqual([
      { reason: 'full', labels: [F1, F1_I1, F1_D1, F1_I2] },
      { reason: 'diff', labels: [F2_D2] },
    ]);
    expect(plan(series(), { diff: 1 }).expired.map((set) => set.reason)).toEqual(['diff', 'diff']);
  });
});

describe('time-based full retention', () => {
  const aged = () => [
    entry(F1, { start: 2, timestampStop: NOW - 20 * DAY }),
    entry(F1_I1, { start: 4, timestampStop: NOW - 19 * DAY }),
    entry(F2, { start: 0x0a, timestampStop: NOW - 10 * DAY }),
    entry(F2_D2, { start: 0x0c, timestampStop: NOW - 9 * DAY }),
    entry(F3, { start: 0x0e, timestampStop: NOW - DAY }),
  ];

  it('keeps the full backups newer than the period and the newest one older than it', () => {
    const result = plan(aged(), { full: 5, fullType: 'time' });
    expect(result.expired).toEqual([{ reason: 'time-based', labels: [F1, F1_I1] }]);
    // the WAL of the remaining full backups is kept
    expect(result.archive.retention).toBe(2);
    expect(plan(aged(), { full: 15, fullType: 'time' }).expired).toEqual([]);
    expect(plan(aged(), { full: 30, fullType: 'time' }).expired).toEqual([]);
  });

  it('keeps the newest full backup when all are older than the period', () => {
    const result = plan(aged(), { full: 0.5, fullType: 'time' });
    expect(labels(result)).toEqual([F3]);
    expect(result.archive.retention).toBe(1);
  });

  it('does not expire WAL when no full backup went, and keeps an explicit archive retention', () => {
    const none = plan(aged(), { full: 15, fullType: 'time' });
    expect(none.archive.status).toBe('time-based-not-met');
    expect(plan(aged(), { full: 5, fullType: 'time', archive: 3 }).archive.retention).toBe(3);
    expect(plan(aged(), { full: 5, fullType: 'time', archiveType: 'diff', archive: undefined }).archive.status).toBe(
      'time-based-not-met',
    );
  });

  it('does nothing without a period, and with no backups', () => {
    expect(plan(aged(), { fullType: 'time' }).expired).toEqual([]);
    expect(plan([], { full: 1, fullType: 'time' }).expired).toEqual([]);
  });
});

describe('--set', () => {
  it('expires one backup and its dependents regardless of retention', () => {
    const result = plan(series(), { full: 1 }, { set: F1_D1 });
    expect(result.set).toEqual({ label: F1_D1, found: true });
    expect(result.expired).toEqual([{ reason: 'adhoc', labels: [F1_D1, F1_I2] }]);
    expect(result.latestExpired).toBeUndefined();
  });

  it('expires an older full set, and the latest full when an older full of the same database remains', () => {
    expect(plan(series(), {}, { set: F1 }).expired).toEqual([{ reason: 'adhoc', labels: [F1, F1_I1, F1_D1, F1_I2] }]);
    const latest = plan(series(), {}, { set: F3 });
    expect(latest.latestExpired).toEqual({ label: F3, newLatest: F2_D2 });
  });

  it('warns when the latest backup goes, and names the new latest', () => {
    const chain = [entry(F1, { start: 2 }), entry(F1_I1, { start: 4 }), entry(F1_I2, { prior: F1_I1, start: 5 })];
    const result = plan(chain, {}, { set: F1_I1 });
    expect(result.expired).toEqual([{ reason: 'adhoc', labels: [F1_I1, F1_I2] }]);
    expect(result.latestExpired).toEqual({ label: F1_I2, newLatest: F1 });
  });

  it('refuses to expire the only full backup, or the latest when the prior full is of another database', () => {
    const only = () => plan([entry(F1, { start: 2 }), entry(F1_I1, { start: 4 })], {}, { set: F1 });
    expect(only).toThrow(PgkeepError);
    expect(only).toThrow(`full backup ${F1} cannot be expired until another full backup has been created on this repo`);
    const upgraded = backupInfo(
      [entry(F1, { start: 2 }), entry(F2, { start: 3, dbId: 2 })],
      [
        { id: 1, version: '14' },
        { id: 2, version: '15' },
      ],
    );
    expect(() => plan([], {}, { backupInfo: upgraded, set: F2 })).toThrow(/cannot be expired/);
  });

  it('reports a label this repository does not have, and applies no retention', () => {
    const result = plan(series(), { full: 1 }, { set: '20200101-000000F' });
    expect(result.set).toEqual({ label: '20200101-000000F', found: false });
    expect(result.expired).toEqual([]);
  });
});

describe('backup directories', () => {
  it('removes every backup directory that backup.info does not list, expired or not', () => {
    const orphan = '20251231-000000F';
    const result = plan(series(), { full: 3 }, { listing: listing({}, { backupLabels: [...ALL, orphan, 'not-a-label'] }) });
    expect(result.removeBackups).toEqual([orphan]);
  });

  it('with --set keeps the newest directory when it is a resumable backup of another set, or of a set that remains', () => {
    const resumable = `${F3}_20260108-000000I`;
    const onDisk = { backupLabels: [...ALL, resumable] };
    const withResumable = (prior: string | undefined, set: string) =>
      plan(series(), {}, { set, listing: listing({}, { ...onDisk, resumable: { label: resumable, prior } }) }).removeBackups;
    expect(withResumable(undefined, F1_D1)).toEqual([F1_I2, F1_D1]);
    expect(withResumable(F3, F3.replace('07', '06'))).toEqual([]);
    expect(withResumable(F3, F2_D2)).toEqual([F2_D2]);
    // the same set, whose prior goes: removed with it
    expect(withResumable(F3, F3)).toEqual([resumable, F3]);
    const chained = `${F3}_20260107-120000I`;
    const info = backupInfo([...series(), entry(chained, { start: 0x10 })]);
    const gone = plan(
      [],
      {},
      {
        backupInfo: info,
        set: chained,
        listing: listing({}, { backupLabels: [...ALL, chained, resumable], resumable: { label: resumable, prior: chained } }),
      },
    );
    expect(gone.removeBackups).toEqual([resumable, chained]);
    const kept = plan(
      [],
      {},
      {
        backupInfo: info,
        set: chained,
        listing: listing({}, { backupLabels: [...ALL, chained, resumable], resumable: { label: resumable, prior: F3 } }),
      },
    );
    expect(kept.removeBackups).toEqual([chained]);
    // without --set a resumable backup is removed like any directory not in backup.info
    expect(
      plan(series(), { full: 3 }, { listing: listing({}, { ...onDisk, resumable: { label: resumable } }) }).removeBackups,
    ).toEqual([resumable]);
  });
});

describe('dependencies', () => {
  it('follows the prior chain', () => {
    expect(dependentChain(backupInfo(series()), F1)).toEqual([F1, F1_I1, F1_D1, F1_I2]);
    expect(dependentChain(backupInfo(series()), F1_D1)).toEqual([F1_D1, F1_I2]);
  });

  it('refuses a plan that would remove a backup a remaining one references', () => {
    const odd = [...series().filter((item) => item.label !== F2_D2), entry(F2_D2, { start: 0x0c, reference: [F1, F2] })];
    expect(() => plan(odd, { full: 2 })).toThrow(`expire would remove backup ${F1}, which remaining backup ${F2_D2} needs`);
  });
});
