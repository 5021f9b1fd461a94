import type { InfoBackupJson, InfoStanzaJson } from '../../repo/info-json.js';
import type { LockContent } from '../../repo/lock/lock.js';

/**
 * `info`'s text output, laid out as pgBackRest's: per stanza its status, per database its WAL
 * range, per backup its times, WAL range and sizes.
 */
export function renderInfoText(stanzas: readonly { json: InfoStanzaJson; backupLock: LockContent | undefined }[]): string {
  if (stanzas.length === 0) return 'No stanzas exist in the repository.\n';
  return stanzas.map(({ json, backupLock }) => renderStanza(json, backupLock)).join('\n');
}

function renderStanza(stanza: InfoStanzaJson, backupLock: LockContent | undefined): string {
  const lines = [`stanza: ${stanza.name}`, `    status: ${statusText(stanza, backupLock)}`];
  if (stanza.repo.length > 1) {
    for (const repo of stanza.repo) if (repo.status.code !== 0) lines.push(`    repo${repo.key}: error (${repo.status.message})`);
  }
  lines.push(`    cipher: ${stanza.cipher}`);

  const current = stanza.db.at(-1);
  for (const db of [...stanza.db].reverse()) {
    const isCurrent = db === current;
    lines.push('', `    db (${isCurrent ? 'current' : 'prior'})`);
    for (const archive of stanza.archive.filter(
      (entry) => entry.database.id === db.id && entry.database['repo-key'] === db['repo-key'],
    )) {
      const range = archive.min === null ? 'none present' : `${archive.min}/${archive.max}`;
      lines.push(`        wal archive min/max (${db.version}): ${range}`);
    }
    for (const backup of stanza.backup.filter(
      (entry) => entry.database.id === db.id && entry.database['repo-key'] === db['repo-key'],
    )) {
      lines.push('', ...renderBackup(backup));
    }
  }
  return lines.join('\n') + '\n';
}

function statusText(stanza: InfoStanzaJson, backupLock: LockContent | undefined): string {
  const running = stanza.status.lock.backup.held ? ` (backup/expire running${progress(backupLock)})` : '';
  if (stanza.status.code === 0) return `ok${running}`;
  return `error (${stanza.status.message})${running}`;
}

function progress(lock: LockContent | undefined): string {
  const percent = lock?.['pctCplt'];
  return typeof percent === 'number' ? ` - ${(percent / 100).toFixed(2)}% complete` : '';
}

function renderBackup(backup: InfoBackupJson): string[] {
  const lines = [
    `        ${backup.type} backup: ${backup.label}${backup.error === true ? ' (page checksum errors)' : ''}`,
    `            timestamp start/stop: ${formatTime(backup.timestamp.start)} / ${formatTime(backup.timestamp.stop)}`,
    `            wal start/stop: ${backup.archive.start ?? 'n/a'} / ${backup.archive.stop ?? 'n/a'}`,
    `            database size: ${formatBytes(backup.info.size)}, database backup size: ${formatBytes(backup.info.delta)}`,
    `            repo${backup.database['repo-key']}: backup set size: ${formatBytes(backup.info.repository.size ?? 0)}, backup size: ${formatBytes(backup.info.repository.delta)}`,
  ];
  if (backup.reference !== null && backup.reference.length > 0)
    lines.push(`            backup reference list: ${backup.reference.join(', ')}`);
  if (backup.tablespace !== undefined && backup.tablespace !== null) {
    lines.push(
      '            tablespaces:',
      ...backup.tablespace.map((ts) => `                ${ts.name} (${ts.oid}) => ${ts.destination}`),
    );
  }
  return lines;
}

/** Local time with its UTC offset, as pgBackRest prints it. */
export function formatTime(epochSeconds: number): string {
  const time = new Date(epochSeconds * 1000);
  const two = (value: number) => String(value).padStart(2, '0');
  const offset = -time.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const zone = `${sign}${two(Math.floor(Math.abs(offset) / 60))}${Math.abs(offset) % 60 === 0 ? '' : `:${two(Math.abs(offset) % 60)}`}`;
  return `${time.getFullYear()}-${two(time.getMonth() + 1)}-${two(time.getDate())} ${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}${zone}`;
}

/** Sizes as pgBackRest prints them: 512B, 28.7MB, 1.2GB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(1)}${units[unit]}`;
}
