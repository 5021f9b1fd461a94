import { PgkeepError } from '../../error/pgkeep-error.js';
import type { Storage } from '../../storage/storage.js';
import { compareBytes } from '../info/json-value.js';

/**
 * Backup labels (repo-format 1.2): `YYYYMMDD-HHMMSSF` for a full backup and
 * `<full label>_YYYYMMDD-HHMMSS{D|I}` for a differential or incremental one, the time in the LOCAL
 * time zone of the machine that takes the backup (pgBackRest formats with localtime). Labels sort
 * chronologically as plain strings, which is how pgBackRest finds the newest one.
 */

export const backupTypes = ['full', 'diff', 'incr'] as const;
export type BackupType = (typeof backupTypes)[number];

export function isBackupType(value: string): value is BackupType {
  return (backupTypes as readonly string[]).includes(value);
}

const DATE_TIME = '[0-9]{8}\\-[0-9]{6}';
/** pgBackRest's label expression for all three types. */
export const BACKUP_LABEL_PATTERN = `^${DATE_TIME}F(\\_${DATE_TIME}(D|I)){0,1}$`;
export const BACKUP_LABEL_REGEX = new RegExp(BACKUP_LABEL_PATTERN);

export interface BackupLabelFilter {
  readonly full?: boolean;
  readonly diff?: boolean;
  readonly incr?: boolean;
  /** Leave out the `$` so the expression matches a prefix (history manifest names). */
  readonly noAnchorEnd?: boolean;
}

/** pgBackRest's backupRegExp: labels of the selected types (all three by default). */
export function backupLabelRegex(filter: BackupLabelFilter = {}): RegExp {
  const all = filter.full === undefined && filter.diff === undefined && filter.incr === undefined;
  const full = all || filter.full === true;
  const diff = all || filter.diff === true;
  const incr = all || filter.incr === true;
  if (!full && !diff && !incr) throw new PgkeepError('Assert', 'a backup label expression needs at least one backup type');
  let pattern = `^${DATE_TIME}F`;
  if (diff || incr) {
    const suffix = diff && incr ? '(D|I)' : diff ? 'D' : 'I';
    pattern += full ? `(\\_${DATE_TIME}${suffix}){0,1}` : `\\_${DATE_TIME}${suffix}`;
  }
  return new RegExp(filter.noAnchorEnd === true ? pattern : `${pattern}$`);
}

/** A --set that must name a backup (annotate, expire): OptionInvalidValue (032) for anything else, as pgBackRest. */
export function checkBackupLabelOption(set: string): void {
  if (isBackupLabel(set)) return;
  throw new PgkeepError('OptionInvalidValue', `'${set}' is not a valid backup label format`, {
    hint: 'a backup label looks like 20261121-045159F or 20261121-045159F_20261121-045203D',
  });
}

export function isBackupLabel(text: string): boolean {
  return BACKUP_LABEL_REGEX.test(text);
}

export interface ParsedBackupLabel {
  readonly label: string;
  readonly type: BackupType;
  /** The label of the full backup the set belongs to (the label itself for a full backup). */
  readonly fullLabel: string;
  /** The local date and time of this backup's own part, `YYYYMMDD-HHMMSS`. */
  readonly timestamp: string;
}

export function parseBackupLabel(label: string): ParsedBackupLabel {
  if (!isBackupLabel(label)) {
    throw new PgkeepError('Format', `'${label}' is not a backup label`, {
      hint: 'a backup label looks like 20261121-045159F, 20261121-045159F_20261121-045203D or 20261121-045159F_20261121-045206I',
    });
  }
  const fullLabel = label.slice(0, 16);
  if (label.length === 16) return { label, type: 'full', fullLabel, timestamp: label.slice(0, 15) };
  return { label, type: label.endsWith('D') ? 'diff' : 'incr', fullLabel, timestamp: label.slice(17, 32) };
}

/** Labels sort as byte strings, which is chronological. */
export function compareBackupLabels(a: string, b: string): number {
  return compareBytes(a, b);
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** strftime("%Y%m%d-%H%M%S", localtime(epoch seconds)). */
export function formatLocalTimestamp(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  return (
    `${pad(date.getFullYear(), 4)}${pad(date.getMonth() + 1)}${pad(date.getDate())}-` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`
  );
}

function epochSecondsOf(time: Date | number): number {
  return typeof time === 'number' ? Math.floor(time) : Math.floor(time.getTime() / 1000);
}

/**
 * pgBackRest's backupLabelFormat: a full label from the time, or the first 16 characters of the
 * prior backup's label (its full label) + `_` + the time + `D`/`I`.
 */
export function formatBackupLabel(type: BackupType, priorLabel: string | undefined, time: Date | number): string {
  if ((type === 'full') !== (priorLabel === undefined)) {
    throw new PgkeepError('Assert', `a ${type} backup label ${type === 'full' ? 'takes no' : 'needs a'} prior label`);
  }
  const timestamp = formatLocalTimestamp(epochSecondsOf(time));
  if (type === 'full') return `${timestamp}F`;
  return `${priorLabel!.slice(0, 16)}_${timestamp}${type === 'diff' ? 'D' : 'I'}`;
}

/**
 * pgBackRest's backupLabelCreate: the label of the time, or of the time + 1 s when that does not
 * sort after the newest existing label; Clock error when neither does (timezone change or clock
 * skew).
 */
export function nextBackupLabel(
  type: BackupType,
  priorLabel: string | undefined,
  time: Date | number,
  latestLabel: string | undefined,
): string {
  const seconds = epochSecondsOf(time);
  const label = formatBackupLabel(type, priorLabel, seconds);
  if (latestLabel === undefined || compareBytes(label, latestLabel) > 0) return label;
  const bumped = formatBackupLabel(type, priorLabel, seconds + 1);
  if (compareBytes(bumped, latestLabel) > 0) return bumped;
  throw new PgkeepError('Clock', `new backup label '${bumped}' is not later than latest backup label '${latestLabel}'`, {
    hint: 'has the timezone changed? is there clock skew?',
  });
}

export const BACKUP_HISTORY_PATH = 'backup.history';
const HISTORY_MANIFEST_SUFFIX = '.manifest.gz';

/** `backup.history/<YYYY>/<label>.manifest.gz`, the year being the label's first four characters. */
export function backupHistoryPath(label: string): string {
  return `${BACKUP_HISTORY_PATH}/${label.slice(0, 4)}/${label}${HISTORY_MANIFEST_SUFFIX}`;
}

/**
 * The newest label among backup directory names and the history manifest names of the newest
 * history year (the inputs pgBackRest compares a new label against).
 */
export function latestBackupLabel(
  backupNames: readonly string[],
  newestYearHistoryNames: readonly string[] = [],
): string | undefined {
  let latest: string | undefined;
  for (const name of backupNames)
    if (isBackupLabel(name) && (latest === undefined || compareBytes(name, latest) > 0)) latest = name;
  const historyRegex = new RegExp(`${backupLabelRegex({ noAnchorEnd: true }).source}\\.manifest\\.gz$`);
  for (const name of newestYearHistoryNames) {
    if (!historyRegex.test(name)) continue;
    const label = name.slice(0, -HISTORY_MANIFEST_SUFFIX.length);
    if (latest === undefined || compareBytes(label, latest) > 0) latest = label;
  }
  return latest;
}

/** Lists `backup/<stanza>` (the storage path given) and its newest history year for latestBackupLabel. */
export async function findLatestBackupLabel(storage: Storage, stanzaBackupPath: string): Promise<string | undefined> {
  const names = (await storage.list(stanzaBackupPath, { ignoreMissing: true })).map((entry) => entry.name);
  const historyPath = `${stanzaBackupPath}/${BACKUP_HISTORY_PATH}`;
  const years = (await storage.list(historyPath, { ignoreMissing: true, filter: /^2[0-9]{3}$/ }))
    .map((entry) => entry.name)
    .sort(compareBytes);
  const newestYear = years.at(-1);
  const history =
    newestYear === undefined
      ? []
      : (await storage.list(`${historyPath}/${newestYear}`, { ignoreMissing: true })).map((entry) => entry.name);
  return latestBackupLabel(names, history);
}
