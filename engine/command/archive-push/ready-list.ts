import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { storageError } from '../../storage/posix/storage-error.js';

const READY = '.ready';

/** PostgreSQL's `pg_wal/archive_status`. */
export function archiveStatusDir(walDir: string): string {
  return join(walDir, 'archive_status');
}

/**
 * The WAL files PostgreSQL has finished and wants archived, oldest first: `archive_status/<name>.ready`.
 * Only these may be pushed ahead of PostgreSQL's own call: a segment without .ready may still be
 * being written.
 */
export async function readyList(walDir: string): Promise<string[]> {
  const dir = archiveStatusDir(walDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw storageError(error, 'list', dir);
  }
  return names
    .filter((name) => name.endsWith(READY) && name.length > READY.length)
    .map((name) => name.slice(0, -READY.length))
    .sort();
}

/**
 * Whether the WAL files waiting for the archive take more than queueMax bytes
 * (archive-push-queue-max): then pgBackRest drops them (reports them archived, with a warning)
 * rather than let pg_wal fill the disk and stop the database.
 */
export async function queueExceeded(walDir: string, files: readonly string[], queueMax: number): Promise<boolean> {
  let total = 0;
  for (const file of files) {
    try {
      total += (await stat(join(walDir, file))).size;
    } catch (error) {
      // Archived and removed in the meantime: it no longer takes space.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(error, 'info', join(walDir, file));
    }
    if (total > queueMax) return true;
  }
  return false;
}

export function dropWarning(file: string, queueMax: number): string {
  return (
    `dropped WAL file '${file}' because archive queue exceeded ${sizeFormat(queueMax)}\n` +
    'HINT: this WAL is NOT in the archive: backups that need it cannot be restored to a point in time after it; ' +
    'find out why archiving is slow or failing (the async log), and take a new backup once it keeps up'
  );
}

/** A size as pgBackRest prints it: 512B, 1.5KB, 16MB, 2GB. */
export function sizeFormat(size: number): string {
  const units: [number, string][] = [
    [1024 ** 3, 'GB'],
    [1024 ** 2, 'MB'],
    [1024, 'KB'],
  ];
  for (const [factor, unit] of units) {
    if (size < factor) continue;
    return Math.floor(size / (factor / 10)) % 10 !== 0
      ? `${(size / factor).toFixed(1)}${unit}`
      : `${Math.floor(size / factor)}${unit}`;
  }
  return `${size}B`;
}
