import { describe, expect, it } from 'vitest';

import { planExpire, type ExpireInput } from '../../../../../engine/command/expire/expire-plan.js';
import { expireSteps, type ExpireStep } from '../../../../../engine/command/expire/expire-steps.js';
import type { RetentionSettings } from '../../../../../engine/command/expire/retention.js';
import {
  ALL,
  archiveInfo,
  backupInfo,
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
  seg,
  series,
  stored,
} from './fixtures.js';

const NOW = Date.UTC(2026, 5, 15, 12) / 1000;

function steps(settings: Partial<RetentionSettings>, extra: Partial<ExpireInput> = {}, warnSetMissing = false): ExpireStep[] {
  const plan = planExpire({
    repo: 2,
    backupInfo: backupInfo(series()),
    archiveInfo: archiveInfo(),
    retention: retention(settings),
    now: NOW,
    listing: listing({ '15-1': [...stored(1, 0, 1, 0x10), '00000001.history'] }, { backupLabels: ALL }),
    ...extra,
  });
  return expireSteps(plan, { archivePath: '/repo/archive/main', warnSetMissing });
}

const lines = (list: ExpireStep[]) =>
  list.filter((step) => step.log !== undefined).map((step) => `${step.log!.level}: ${step.log!.message}`);
const actions = (list: ExpireStep[]) => list.filter((step) => step.action !== undefined).map((step) => step.action!);

describe('expire steps', () => {
  it("logs pgBackRest's lines for expired sets, removed backups and WAL", () => {
    const result = steps({ full: 2, history: 10 });
    expect(lines(result)).toEqual([
      `info: repo2: expire full backup set ${F1}, ${F1_I1}, ${F1_D1}, ${F1_I2}`,
      `info: repo2: remove expired backup ${F1_I2}`,
      `info: repo2: remove expired backup ${F1_D1}`,
      `info: repo2: remove expired backup ${F1_I1}`,
      `info: repo2: remove expired backup ${F1}`,
      `detail: repo2: 15-1 archive retention on backup ${F2}, start = ${seg(1, 0, 0x0a)}`,
      `info: repo2: 15-1 remove archive, start = ${seg(1, 0, 1)}, stop = ${seg(1, 0, 9)}`,
    ]);
    // backup.info is saved before any directory goes
    expect(actions(result).slice(0, 2)).toEqual([{ kind: 'save-backup-info' }, { kind: 'remove-backup', label: F1_I2 }]);
    expect(actions(result).filter((action) => action.kind === 'remove-wal-file')).toHaveLength(9);
  });

  it('names a single backup without "set", and the stop of older backups', () => {
    const result = lines(
      steps(
        { full: 9, diff: 3, archive: 1 },
        {
          backupInfo: backupInfo(series().filter((item) => item.label !== F1_I2)),
          listing: listing({ '15-1': stored(1, 0, 1, 3) }, { backupLabels: ALL.filter((label) => label !== F1_I2) }),
        },
      ),
    );
    expect(result[0]).toBe(`info: repo2: expire diff backup ${F1_D1}`);
    expect(result).toContain(
      `detail: repo2: 15-1 archive retention on backup ${F1}, start = ${seg(1, 0, 2)}, stop = ${seg(1, 0, 2)}`,
    );
  });

  it('says when WAL is not expired', () => {
    expect(lines(steps({}))).toEqual(["info: option 'repo2-retention-archive' is not set - archive logs will not be expired"]);
    const recent = backupInfo(series().map((item) => ({ ...item, timestampStop: NOW })));
    expect(lines(steps({ full: 30, fullType: 'time' }, { backupInfo: recent }))).toEqual([
      'info: repo2: time-based archive retention not met - archive logs will not be expired',
    ]);
    expect(lines(steps({ full: 9, archive: 1 }, { listing: listing({ '15-1': stored(1, 0, 0x0e, 0x10) }) }))).toContain(
      'info: repo2: 15-1 no archive to remove',
    );
  });

  it('warns before expiring the latest backup, moves the latest link after saving, and warns about a missing --set', () => {
    const result = steps({}, { set: F3 });
    expect(lines(result).slice(0, 3)).toEqual([
      `warn: repo2: expiring latest backup ${F3} - the ability to perform point-in-time-recovery (PITR) may be affected\n` +
        "HINT: non-default settings for 'repo2-retention-archive'/'repo2-retention-archive-type' (even in prior expires) " +
        'can cause gaps in the WAL.',
      `info: repo2: expire adhoc backup ${F3}`,
      `info: repo2: remove expired backup ${F3}`,
    ]);
    expect(actions(result).slice(0, 2)).toEqual([{ kind: 'save-backup-info' }, { kind: 'link-latest', label: F2_D2 }]);
    const missing = lines(steps({}, { set: '20200101-000000F' }, true));
    expect(missing[0]).toBe(
      'warn: backup 20200101-000000F does not exist\nHINT: run the info command and confirm the backup is listed',
    );
    expect(lines(steps({}, { set: '20200101-000000F' }, false))[0]).not.toMatch(/does not exist/);
  });

  it('removes the archive id of an older database by absolute path, and timeline history files', () => {
    const history = [
      { id: 1, version: '14' },
      { id: 2, version: '15' },
    ];
    const result = steps(
      { full: 1 },
      {
        backupInfo: backupInfo([entry(F2, { start: seg(3, 0, 5), dbId: 2 })], history),
        archiveInfo: archiveInfo(history),
        listing: listing({ '14-1': stored(1, 0, 1, 2), '15-2': [...stored(3, 0, 4, 6), '00000002.history', '00000003.history'] }),
      },
    );
    expect(lines(result)).toEqual([
      'info: repo2: remove archive path /repo/archive/main/14-1',
      `detail: repo2: 15-2 archive retention on backup ${F2}, start = ${seg(3, 0, 5)}`,
      `info: repo2: 15-2 remove archive, start = ${seg(3, 0, 4)}, stop = ${seg(3, 0, 4)}`,
      'info: repo2: 15-2 remove history file 00000002.history',
    ]);
    expect(actions(result).slice(1)).toEqual([
      { kind: 'remove-archive-id', archiveId: '14-1' },
      { kind: 'remove-wal-file', archiveId: '15-2', file: `0000000300000000/${seg(3, 0, 4)}-${'a'.repeat(40)}.lz4` },
      { kind: 'remove-timeline-history', archiveId: '15-2', file: '00000002.history' },
    ]);
  });

  it('says nothing about WAL kept because the retention backup was taken offline', () => {
    const offline = { backupInfo: backupInfo([entry(F3, { start: null })]), listing: listing({ '15-1': stored(1, 0, 1, 3) }) };
    expect(lines(steps({ full: 1 }, offline))).toEqual([]);
  });

  it('removes whole WAL directories and backup history', () => {
    const result = steps(
      { full: 1, history: 0 },
      {
        backupInfo: backupInfo([entry(F3, { start: seg(1, 1, 0) })]),
        listing: listing(
          { '15-1': [...stored(1, 0, 0xfe, 0xff), ...stored(1, 1, 0, 1)] },
          {
            historyManifests: new Map([
              ['2025', ['20250101-000000F.manifest.gz']],
              ['2026', [`${F1}.manifest.gz`, `${F3}.manifest.gz`]],
            ]),
          },
        ),
      },
    );
    expect(lines(result).filter((line) => line.startsWith('info'))).toEqual([
      'info: repo2: 15-1 remove archive, start = 0000000100000000, stop = 0000000100000000',
      'info: repo2: remove expired backup history path 2025',
      `info: repo2: remove expired backup history manifest ${F1}.manifest.gz`,
    ]);
    expect(actions(result).slice(1)).toEqual([
      { kind: 'remove-wal-dir', archiveId: '15-1', dir: '0000000100000000' },
      { kind: 'remove-history-year', year: '2025' },
      { kind: 'remove-history-manifest', file: `2026/${F1}.manifest.gz` },
    ]);
  });
});
