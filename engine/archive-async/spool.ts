import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { errorTable, type ErrorName } from '../error/error-table.js';
import { PgkeepError, toPgkeepError } from '../error/pgkeep-error.js';
import { storageError } from '../storage/posix/storage-error.js';

/**
 * The spool of asynchronous archiving, laid out as pgBackRest 2.45 lays it out (repo-format 9.4),
 * so that an operator who knows pgBackRest finds what they expect, and pgkeep and pgbackrest can
 * share one spool-path:
 *
 *   <spool-path>/archive/<stanza>/out/<wal>.ok       pushed (empty), or pushed with a warning ("0\n<text>")
 *   <spool-path>/archive/<stanza>/out/<wal>.error    "<code>\n<message>": the push failed
 *   <spool-path>/archive/<stanza>/out/global.error   the same, for every file (the background run failed)
 *   <spool-path>/archive/<stanza>/in/<wal>           a prefetched segment, plain and verified
 *   <spool-path>/archive/<stanza>/in/<wal>.ok|.error the same status files for archive-get
 *
 * Status files are written under a temporary name and renamed, so a reader sees all of a file or
 * nothing. They are not fsynced: a status file lost in a crash only makes the next call do the
 * work again (the repository write, which is what matters, is synced before the .ok exists).
 */

export type SpoolQueue = 'in' | 'out';

export const STATUS_OK = '.ok';
export const STATUS_ERROR = '.error';
export const GLOBAL_STATUS = 'global';
/** Temporary files in the spool; never a name the foreground looks for. */
export const SPOOL_TEMP_MARK = '.pgkeep.tmp.';
const SPOOL_PATH_MODE = 0o750;
const SPOOL_FILE_MODE = 0o640;

export function spoolQueuePath(spoolPath: string, stanza: string, queue: SpoolQueue): string {
  return join(spoolPath, 'archive', stanza, queue);
}

/** What a status file says about one WAL file. */
export type AsyncStatus =
  | { readonly kind: 'ok'; readonly file: string; readonly warning?: string | undefined }
  | { readonly kind: 'error'; readonly file: string; readonly code: number; readonly message: string };

/**
 * The status of `name` in a queue directory: its .ok file, else its .error file, else (when
 * `global`) global.error; undefined when there is none. An .ok file holding a non-zero code is an
 * .error renamed by hand to skip the file: it counts as ok, with a warning saying so.
 */
export async function readStatus(
  dir: string,
  name: string,
  options: { global?: boolean } = {},
): Promise<AsyncStatus | undefined> {
  const candidates = [name + STATUS_OK, name + STATUS_ERROR, ...(options.global === false ? [] : [GLOBAL_STATUS + STATUS_ERROR])];
  for (const file of candidates) {
    const content = await readIfExists(join(dir, file));
    if (content === undefined) continue;
    const isOk = file.endsWith(STATUS_OK);
    if (content.length === 0) {
      if (isOk) return { kind: 'ok', file };
      throw new PgkeepError('Assert', `status file '${join(dir, file)}' has no content`, {
        hint: 'remove it: the next call starts the background process again',
      });
    }
    const { code, message } = parseStatus(content, join(dir, file));
    if (!isOk) return { kind: 'error', file, code, message };
    const warning =
      code === 0 ? message : `WAL segment '${name}' was not pushed due to error [${code}] and was manually skipped: ${message}`;
    return { kind: 'ok', file, warning };
  }
  return undefined;
}

function parseStatus(content: string, path: string): { code: number; message: string } {
  const newline = content.indexOf('\n');
  if (newline < 0) throw new PgkeepError('Format', `${path} content must have at least two lines`);
  const message = content.slice(newline + 1).trim();
  if (message.length === 0) throw new PgkeepError('Format', `${path} message must be > 0`);
  const codeText = content.slice(0, newline).trim();
  const code = Number(codeText);
  if (!/^-?\d+$/.test(codeText) || !Number.isSafeInteger(code)) {
    throw new PgkeepError('Format', `${path} does not start with an error code: '${codeText}'`);
  }
  return { code, message };
}

/** The error an .error status file reports, with the code it holds (an unknown code is Unknown). */
export function statusError(status: Extract<AsyncStatus, { kind: 'error' }>): PgkeepError {
  const name = errorNameOfCode(status.code);
  const [message, ...hints] = status.message.split('\nHINT: ');
  return new PgkeepError(name, message!, hints.length === 0 ? {} : { hint: hints.join('\nHINT: ') });
}

function errorNameOfCode(code: number): ErrorName {
  for (const [name, entry] of Object.entries(errorTable)) if (entry.code === code) return name as ErrorName;
  return 'Unknown';
}

/** `<name>.ok`, empty or holding a warning. */
export async function writeOk(dir: string, name: string, warning?: string): Promise<void> {
  await writeStatusFile(dir, name + STATUS_OK, warning === undefined || warning === '' ? '' : `0\n${warning}`);
}

/** `<name>.error`, or global.error without a name, holding the error's code and text (message and hint). */
export async function writeError(dir: string, name: string | undefined, error: unknown): Promise<void> {
  const failure = toPgkeepError(error);
  await writeStatusFile(dir, (name ?? GLOBAL_STATUS) + STATUS_ERROR, `${failure.code}\n${failure.text}`);
}

/** Removes `<name>.error` and global.error before a new background run (pgBackRest's archiveAsyncErrorClear). */
export async function clearErrors(dir: string, name: string): Promise<void> {
  await removeIfExists(join(dir, name + STATUS_ERROR));
  await removeIfExists(join(dir, GLOBAL_STATUS + STATUS_ERROR));
}

export async function createQueue(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: SPOOL_PATH_MODE });
  } catch (error) {
    throw storageError(error, 'pathCreate', dir);
  }
}

/** The names in a queue directory (created when missing), sorted; temporary files only when asked for. */
export async function listQueue(dir: string, options: { temporary?: boolean } = {}): Promise<string[]> {
  await createQueue(dir);
  let names: string[];
  try {
    names = await readdir(dir);
    /* v8 ignore start */
  } catch (error) {
    // A directory just created that cannot be read: a permission set by someone else (untestable as root).
    throw storageError(error, 'list', dir);
  }
  /* v8 ignore stop */
  return names.filter((name) => options.temporary === true || !name.includes(SPOOL_TEMP_MARK)).sort();
}

async function writeStatusFile(dir: string, file: string, content: string): Promise<void> {
  await createQueue(dir);
  const path = join(dir, file);
  const temporary = `${path}${SPOOL_TEMP_MARK}${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, content, { mode: SPOOL_FILE_MODE, flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw storageError(error, 'write', path);
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw storageError(error, 'openRead', path);
  }
}

export async function removeIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(error, 'remove', path);
  }
}
