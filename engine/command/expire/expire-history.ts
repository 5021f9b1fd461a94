import { backupLabelRegex, compareBackupLabels, formatBackupLabel } from '../../repo/backup/label.js';
import type { BackupInfo } from '../../repo/info/backup-info.js';
import { compareBytes } from '../../repo/info/json-value.js';

/**
 * Retention of `backup.history/<year>/<label>.manifest.gz` (pgBackRest 2.45's removeExpiredHistory):
 * with repo-retention-history=N, the manifests of backups no longer in backup.info whose label is
 * older than the full label of now - N days go; whole years before that label's year go at once.
 */

export interface HistoryPlan {
  /** undefined: repo-retention-history is not set and nothing is looked at. */
  readonly retentionDays: number | undefined;
  /** The full label of now - N days (local time): older labels go. */
  readonly minLabel?: string | undefined;
  /** Whole year directories removed. */
  readonly removeYears: readonly string[];
  /** `<year>/<label>.manifest.gz` removed. */
  readonly removeFiles: readonly string[];
}

const YEAR_REGEX = /^2[0-9]{3}$/;
const HISTORY_MANIFEST_REGEX = new RegExp(`${backupLabelRegex({ noAnchorEnd: true }).source}\\.manifest\\.gz$`);

export function planHistory(
  info: BackupInfo,
  retentionDays: number | undefined,
  now: number,
  listing: ReadonlyMap<string, readonly string[]>,
): HistoryPlan {
  if (retentionDays === undefined) return { retentionDays, removeYears: [], removeFiles: [] };
  const current = new Set(info.backups.map((item) => item.label));
  const minLabel = formatBackupLabel('full', undefined, now - retentionDays * 86_400);
  const minYear = minLabel.slice(0, 4);
  const removeYears: string[] = [];
  const removeFiles: string[] = [];
  for (const year of [...listing.keys()].filter((name) => YEAR_REGEX.test(name)).sort(compareBytes)) {
    if (compareBytes(year, minYear) < 0) {
      removeYears.push(year);
    } else if (year === minYear) {
      const names = listing
        .get(year)!
        .filter((name) => HISTORY_MANIFEST_REGEX.test(name))
        .sort((a, b) => compareBytes(b, a));
      for (const name of names) {
        const label = name.split('.')[0]!;
        if (!current.has(label) && compareBackupLabels(label, minLabel) < 0) removeFiles.push(`${year}/${name}`);
      }
    } else {
      break;
    }
  }
  return { retentionDays, minLabel, removeYears, removeFiles };
}
