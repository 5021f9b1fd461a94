import { describe, expect, it } from 'vitest';

import {
  BACKUP_LABEL_PATTERN,
  backupHistoryPath,
  backupLabelRegex,
  compareBackupLabels,
  findLatestBackupLabel,
  formatBackupLabel,
  formatLocalTimestamp,
  isBackupLabel,
  isBackupType,
  latestBackupLabel,
  nextBackupLabel,
  parseBackupLabel,
} from '../../../../../engine/repo/backup/label.js';
import { MemoryStorage } from '../memory-storage.js';

/** 2026-11-21 04:51:59 UTC, the start of the real full backup (repo-format 1.2). */
const FULL_START = 1795236719;

/** Local time of an epoch, computed independently of the code under test. */
function localLabelTime(epoch: number): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(epoch * 1000));
  const part = (type: string) => parts.find((item) => item.type === type)!.value;
  return `${part('year')}${part('month')}${part('day')}-${part('hour')}${part('minute')}${part('second')}`;
}

describe('backup labels (repo-format 1.2)', () => {
  it('formats in local time, as strftime(localtime) does', () => {
    expect(formatLocalTimestamp(FULL_START)).toBe(localLabelTime(FULL_START));
    expect(formatBackupLabel('full', undefined, FULL_START)).toBe(`${localLabelTime(FULL_START)}F`);
    expect(formatBackupLabel('full', undefined, new Date(FULL_START * 1000 + 999))).toBe(`${localLabelTime(FULL_START)}F`);
    if (process.env['TZ'] === 'UTC' || new Date().getTimezoneOffset() === 0) {
      expect(formatBackupLabel('full', undefined, FULL_START)).toBe('20261121-045159F');
    }
  });

  it('builds diff and incr labels from the first 16 characters of the prior label', () => {
    const full = '20261121-045159F';
    expect(formatBackupLabel('diff', full, FULL_START + 4)).toBe(`${full}_${localLabelTime(FULL_START + 4)}D`);
    expect(formatBackupLabel('incr', `${full}_20261121-045203D`, FULL_START + 7)).toBe(
      `${full}_${localLabelTime(FULL_START + 7)}I`,
    );
    expect(() => formatBackupLabel('full', full, FULL_START)).toThrow(/takes no prior label/);
    expect(() => formatBackupLabel('incr', undefined, FULL_START)).toThrow(/needs a prior label/);
  });

  it('matches pgBackRest label expressions', () => {
    expect(BACKUP_LABEL_PATTERN).toBe('^[0-9]{8}\\-[0-9]{6}F(\\_[0-9]{8}\\-[0-9]{6}(D|I)){0,1}$');
    for (const label of ['20261121-045159F', '20261121-045159F_20261121-045203D', '20261121-045159F_20261121-045206I'])
      expect(isBackupLabel(label)).toBe(true);
    for (const label of [
      '20261121-045159',
      '20261121-045159D',
      '20261121-045159F_20261121-045203F',
      'x20261121-045159F',
      'backup.history',
    ]) {
      expect(isBackupLabel(label)).toBe(false);
    }
    expect(backupLabelRegex({ full: true }).test('20261121-045159F_20261121-045203D')).toBe(false);
    expect(backupLabelRegex({ diff: true }).test('20261121-045159F_20261121-045203D')).toBe(true);
    expect(backupLabelRegex({ diff: true }).test('20261121-045159F')).toBe(false);
    expect(backupLabelRegex({ incr: true }).test('20261121-045159F_20261121-045203D')).toBe(false);
    expect(backupLabelRegex({ full: true, incr: true }).test('20261121-045159F_20261121-045206I')).toBe(true);
    expect(backupLabelRegex({ noAnchorEnd: true }).test('20261121-045159F.manifest.gz')).toBe(true);
    expect(() => backupLabelRegex({ full: false })).toThrow(/at least one backup type/);
  });

  it('parses labels', () => {
    expect(parseBackupLabel('20261121-045159F')).toEqual({
      label: '20261121-045159F',
      type: 'full',
      fullLabel: '20261121-045159F',
      timestamp: '20261121-045159',
    });
    expect(parseBackupLabel('20261121-045159F_20261121-045203D')).toMatchObject({
      type: 'diff',
      fullLabel: '20261121-045159F',
      timestamp: '20261121-045203',
    });
    expect(parseBackupLabel('20261121-045159F_20261121-045206I').type).toBe('incr');
    expect(() => parseBackupLabel('latest')).toThrow("'latest' is not a backup label");
    expect(isBackupType('diff')).toBe(true);
    expect(isBackupType('weekly')).toBe(false);
  });

  it('sorts chronologically', () => {
    const labels = [
      '20261121-045300F',
      '20261121-045159F_20261121-045206I',
      '20261121-045159F',
      '20261121-045159F_20261121-045203D',
    ];
    expect([...labels].sort(compareBackupLabels)).toEqual([
      '20261121-045159F',
      '20261121-045159F_20261121-045203D',
      '20261121-045159F_20261121-045206I',
      '20261121-045300F',
    ]);
  });

  it('adds one second when the label would not sort after the newest one, and fails after that', () => {
    const label = formatBackupLabel('full', undefined, FULL_START);
    expect(nextBackupLabel('full', undefined, FULL_START, undefined)).toBe(label);
    expect(nextBackupLabel('full', undefined, FULL_START, formatBackupLabel('full', undefined, FULL_START - 60))).toBe(label);
    expect(nextBackupLabel('full', undefined, FULL_START, label)).toBe(formatBackupLabel('full', undefined, FULL_START + 1));
    // A diff of the same full in the same second sorts after the full label itself
    expect(nextBackupLabel('diff', label, FULL_START, label)).toBe(formatBackupLabel('diff', label, FULL_START));
    const later = formatBackupLabel('full', undefined, FULL_START + 3600);
    expect(() => nextBackupLabel('full', undefined, FULL_START, later)).toThrow(
      `new backup label '${formatBackupLabel('full', undefined, FULL_START + 1)}' is not later than latest backup label '${later}'`,
    );
    try {
      nextBackupLabel('full', undefined, new Date(FULL_START * 1000), later);
      expect.unreachable();
    } catch (error) {
      expect((error as { errorName: string; hint: string }).errorName).toBe('Clock');
      expect((error as { hint: string }).hint).toBe('has the timezone changed? is there clock skew?');
    }
  });

  it('puts history manifests under the year of the label', () => {
    expect(backupHistoryPath('20261121-045159F')).toBe('backup.history/2026/20261121-045159F.manifest.gz');
    expect(backupHistoryPath('20261231-235959F_20270101-000001I')).toBe(
      'backup.history/2026/20261231-235959F_20270101-000001I.manifest.gz',
    );
  });

  it('finds the newest label among backups and the newest history year', async () => {
    expect(
      latestBackupLabel(
        ['20261121-045159F', 'backup.info', 'latest', '20261121-045300F'],
        ['20261121-050000F.manifest.gz', 'junk'],
      ),
    ).toBe('20261121-050000F');
    expect(latestBackupLabel(['20261121-045300F'], ['20261121-045159F.manifest.gz'])).toBe('20261121-045300F');
    expect(latestBackupLabel([])).toBeUndefined();

    const storage = new MemoryStorage({
      'backup/demo/backup.info': 'x',
      'backup/demo/20261121-045159F/backup.manifest': 'x',
      'backup/demo/20261121-045159F_20261121-045203D/backup.manifest': 'x',
      'backup/demo/backup.history/2025/20251231-000000F.manifest.gz': 'x',
      'backup/demo/backup.history/2026/20261121-045159F.manifest.gz': 'x',
      'backup/demo/backup.history/2026/20261121-060000F.manifest.gz': 'x',
    });
    expect(await findLatestBackupLabel(storage, 'backup/demo')).toBe('20261121-060000F');
    expect(await findLatestBackupLabel(new MemoryStorage(), 'backup/demo')).toBeUndefined();
    expect(
      await findLatestBackupLabel(new MemoryStorage({ 'backup/demo/20261121-045159F/backup.manifest': 'x' }), 'backup/demo'),
    ).toBe('20261121-045159F');
  });
});
