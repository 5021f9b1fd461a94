import { describe, expect, it } from 'vitest';

import { planHistory } from '../../../../../engine/command/expire/expire-history.js';
import { formatBackupLabel } from '../../../../../engine/repo/backup/label.js';
import { backupInfo, DAY, entry } from './fixtures.js';

// Mid-June 2026: 30 days back is mid-May of the same year in any time zone
const NOW = Date.UTC(2026, 5, 15, 12) / 1000;

describe('backup history retention', () => {
  const current = '20260102-000000F';
  const info = backupInfo([entry(current, { start: 2 })]);
  const listing = new Map<string, string[]>([
    ['2027', ['20270101-000000F.manifest.gz']],
    ['2024', ['20240101-000000F.manifest.gz']],
    [
      '2026',
      [
        '20260101-000000F.manifest.gz',
        '20260101-000000F_20260101-120000I.manifest.gz',
        `${current}.manifest.gz`,
        '20260601-000000F.manifest.gz',
        'notes.txt',
      ],
    ],
    ['2025', ['20250101-000000F.manifest.gz']],
    ['misc', []],
  ]);

  it('removes years before the oldest label to keep, and older manifests of expired backups in its year', () => {
    const plan = planHistory(info, 30, NOW, listing);
    expect(plan.minLabel).toBe(formatBackupLabel('full', undefined, NOW - 30 * DAY));
    expect(plan.removeYears).toEqual(['2024', '2025']);
    expect(plan.removeFiles).toEqual(['2026/20260101-000000F_20260101-120000I.manifest.gz', '2026/20260101-000000F.manifest.gz']);
  });

  it('does nothing when repo-retention-history is not set', () => {
    expect(planHistory(info, undefined, NOW, listing)).toEqual({ retentionDays: undefined, removeYears: [], removeFiles: [] });
  });

  it('stops at the first year after the oldest label to keep', () => {
    const plan = planHistory(info, 600, NOW, listing);
    expect(plan.minLabel!.slice(0, 4)).toBe('2024');
    expect(plan.removeYears).toEqual([]);
    // 2025 and 2026 are not looked at
    expect(plan.removeFiles).toEqual(['2024/20240101-000000F.manifest.gz']);
  });
});
