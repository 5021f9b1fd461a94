import { INFO_STATUS, type InfoBackupJson, type InfoStanzaJson } from '../../repo/info-json.js';
import type { LockContent } from '../../repo/lock/lock.js';

/**
 * `info`'s text output, laid out as pgBackRest 2.45's (command/info/info.c): per stanza its status
 * (per repository when they disagree or fail), its cipher, then its clusters: the prior ones that
 * still have WAL or backups, oldest first, and the current one last, each with its WAL range and
 * its backups. Checked line for line against pgbackrest's output (test/integration).
 */
export function renderInfoText(
  stanzas: readonly { json: InfoStanzaJson; backupLock: LockContent | undefined }[],
  options: { readonly set?: boolean } = {},
): string {
  if (stanzas.length === 0) return 'No stanzas exist in the repository.\n';
  return stanzas.map(({ json, backupLock }) => renderStanza(json, backupLock, options.set === true)).join('\n');
}

/** Status codes (INFO_STATUS) whose line is followed by each repository's status. */
const PER_REPO_STATUS = new Set<number>([INFO_STATUS.mixed.code, INFO_STATUS.pgMismatch.code, INFO_STATUS.other.code]);

/** `set`: one backup asked for (--set): its LSNs and annotations too, which the JSON always has. */
function renderStanza(stanza: InfoStanzaJson, backupLock: LockContent | undefined, set: boolean): string {
  let text = `stanza: ${stanza.name}\n    status: ${statusText(stanza, backupLock)}`;
  // Found on at least one repository: its cipher (each repository's when they differ).
  if (stanza.status.code !== INFO_STATUS.missingStanzaPath.code) {
    text += `    cipher: ${stanza.cipher}\n`;
    if (stanza.cipher === 'mixed') for (const repo of stanza.repo) text += `        repo${repo.key}: ${repo.cipher}\n`;
  }
  if (stanza.db.length > 0) text += renderDatabases(stanza, set);
  return text;
}

/** The status line, and each repository's status after it when they matter. */
function statusText(stanza: InfoStanzaJson, backupLock: LockContent | undefined): string {
  const { code, message } = stanza.status;
  const held = stanza.status.lock.backup.held;
  const running = `backup/expire running${progress(backupLock)}`;
  if (code === INFO_STATUS.ok.code) return held ? `ok (${running})\n` : 'ok\n';
  if (!PER_REPO_STATUS.has(code)) return `error (${message}${held ? `, ${running})` : ')'}\n`;
  let text = `${code === INFO_STATUS.mixed.code ? 'mixed' : `error (${message})`}${held ? ` (${running})` : ''}\n`;
  const multiRepo = stanza.repo.length > 1;
  const spacer = ' '.repeat(multiRepo ? 15 : 12);
  for (const repo of stanza.repo) {
    if (multiRepo) text += `        repo${repo.key}: `;
    if (repo.status.code === INFO_STATUS.ok.code) text += 'ok\n';
    else if (repo.status.code === INFO_STATUS.other.code)
      text += `${multiRepo ? 'error (other)\n' : ''}${spacer}${repo.status.message.split('\n').join(`\n${spacer}`)}\n`;
    else text += `error (${repo.status.message})\n`;
  }
  return text;
}

function progress(lock: LockContent | undefined): string {
  const percent = lock?.['pctCplt'];
  return typeof percent === 'number' ? ` - ${formatPercent(percent)} complete` : '';
}

/** A percentage held in hundredths (pgBackRest's pctCplt), as pgBackRest prints it: 45.07%. */
export function formatPercent(hundredths: number): string {
  return `${Math.floor(hundredths / 100)}.${two(hundredths % 100)}%`;
}

interface DbGroup {
  readonly systemId: bigint;
  readonly version: string;
  readonly current: boolean;
  archiveMin: string | null;
  archiveMax: string | null;
  readonly backups: InfoBackupJson[];
}

/**
 * The clusters: the database entries of every repository grouped by system id and version, each
 * group with the lowest and highest WAL of its entries and the backups of its entries.
 */
function renderDatabases(stanza: InfoStanzaJson, set: boolean): string {
  const current = stanza.db.at(-1)!;
  const groups: DbGroup[] = [];
  const groupOf = (db: InfoStanzaJson['db'][number]) =>
    groups.find((group) => group.systemId === db['system-id'] && group.version === db.version);
  const sameDb = (entry: { id: number; 'repo-key': number }, db: InfoStanzaJson['db'][number]) =>
    entry.id === db.id && entry['repo-key'] === db['repo-key'];
  for (const db of stanza.db) {
    let group = groupOf(db);
    if (group === undefined) {
      group = {
        systemId: db['system-id'],
        version: db.version,
        current: db['system-id'] === current['system-id'] && db.version === current.version,
        archiveMin: null,
        archiveMax: null,
        backups: [],
      };
      groups.push(group);
    }
    for (const archive of stanza.archive) {
      if (!sameDb(archive.database, db) || archive.min === null) continue;
      if (group.archiveMin === null || group.archiveMin > archive.min) group.archiveMin = archive.min;
      if (group.archiveMax === null || group.archiveMax < archive.max!) group.archiveMax = archive.max;
    }
  }
  // With --set only the group of the backup asked for is shown (all of them when it is not found).
  let shown = groups;
  for (const backup of stanza.backup) {
    const db = stanza.db.find((entry) => sameDb(backup.database, entry));
    if (db === undefined) continue;
    const group = groupOf(db)!;
    group.backups.push(backup);
    if (set) shown = [group];
  }
  let text = '';
  let currentText = '';
  for (const group of shown) {
    if (group.current) currentText += `\n    db (current)${renderGroup(group, set)}`;
    else if (group.archiveMin !== null || group.backups.length > 0) text += `\n    db (prior)${renderGroup(group, set)}`;
  }
  return text + currentText;
}

function renderGroup(group: DbGroup, set: boolean): string {
  const range = group.archiveMin === null ? 'none present' : `${group.archiveMin}/${group.archiveMax}`;
  let text = `\n        wal archive min/max (${group.version}): ${range}\n`;
  for (const backup of group.backups) text += `\n        ${backup.type} backup: ${backup.label}\n${renderBackup(backup, set)}`;
  return text;
}

function renderBackup(backup: InfoBackupJson, set: boolean): string {
  const lines = [
    `timestamp start/stop: ${formatLocalTime(backup.timestamp.start)} / ${formatLocalTime(backup.timestamp.stop)}`,
    `wal start/stop: ${backup.archive.start !== null && backup.archive.stop !== null ? `${backup.archive.start} / ${backup.archive.stop}` : 'n/a'}`,
  ];
  if (set && backup.lsn !== undefined) lines.push(`lsn start/stop: ${backup.lsn.start} / ${backup.lsn.stop}`);
  lines.push(
    `database size: ${formatBytes(backup.info.size)}, database backup size: ${formatBytes(backup.info.delta)}`,
    `repo${backup.database['repo-key']}: ${backup.info.repository.size === undefined ? '' : `backup set size: ${formatBytes(backup.info.repository.size)}, `}backup size: ${formatBytes(backup.info.repository.delta)}`,
  );
  if (backup.reference !== null) lines.push(`backup reference list: ${backup.reference.join(', ')}`);
  if (backup['database-ref'] !== undefined) {
    const list = backup['database-ref'].map((db) => ` ${db.name} (${db.oid})`).join(',');
    lines.push(`database list:${list === '' ? ' none' : list}`);
  }
  if (backup.link !== undefined && backup.link !== null)
    lines.push('symlinks:', ...backup.link.map((link) => `    ${link.name} => ${link.destination}`));
  if (backup.tablespace !== undefined && backup.tablespace !== null)
    lines.push('tablespaces:', ...backup.tablespace.map((ts) => `    ${ts.name} (${ts.oid}) => ${ts.destination}`));
  if (backup.error === true)
    lines.push(
      backup['error-list'] !== undefined ? `error list: ${backup['error-list'].join(', ')}` : 'error(s) detected during backup',
    );
  if (set && backup.annotation !== undefined)
    lines.push('annotation(s)', ...Object.entries(backup.annotation).map(([key, value]) => `    ${key}: ${String(value)}`));
  return lines.map((line) => `            ${line}\n`).join('');
}

/** Local time `YYYY-MM-DD HH:MM:SS`, as pgBackRest prints it in info (no UTC offset) and in restore labels. */
export function formatLocalTime(epochSeconds: number): string {
  const time = new Date(epochSeconds * 1000);
  return `${time.getFullYear()}-${two(time.getMonth() + 1)}-${two(time.getDate())} ${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}`;
}

/** Local time with its UTC offset (+01, -05:30): pgkeep's own messages, where a time is compared with a target. */
export function formatTime(epochSeconds: number): string {
  const offset = -new Date(epochSeconds * 1000).getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const minutes = Math.abs(offset) % 60;
  return `${formatLocalTime(epochSeconds)}${sign}${two(Math.floor(Math.abs(offset) / 60))}${minutes === 0 ? '' : `:${two(minutes)}`}`;
}

function two(value: number): string {
  return String(value).padStart(2, '0');
}

/**
 * Sizes as pgBackRest 2.45 prints them (strSizeFormat): bytes below 1 KiB, then KB, MB or GB
 * (never more: 2048GB) with one decimal, except that a size whose first decimal digit would be 0
 * (by truncation) is printed whole: 7MB, 7.1MB, and 7.96MB is 8.0MB. The decimal is rounded as C's
 * printf rounds it; a size divided by a power of 1024 is an exact binary value, so a tie is a
 * real one and goes to the even digit (1.25KB is 1.2KB).
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  const [unit, name] = bytes < 1024 ** 2 ? [1024, 'KB'] : bytes < 1024 ** 3 ? [1024 ** 2, 'MB'] : [1024 ** 3, 'GB'];
  // pgBackRest's own test, with its floating-point division by a tenth of the unit
  if (Math.floor(bytes / ((unit / 1024) * 102.4)) % 10 === 0) return `${Math.floor(bytes / unit)}${name}`;
  const value = bytes / unit;
  const tenths = value * 10;
  const below = Math.floor(tenths);
  const rest = tenths - below;
  const rounded = rest > 0.5 || (rest === 0.5 && below % 2 === 1) ? below + 1 : below;
  return `${(rounded / 10).toFixed(1)}${name}`;
}
