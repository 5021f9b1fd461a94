import { randomBytes } from 'node:crypto';
import { link, open, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { PgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { PosixStorage } from '../../storage/posix/posix-storage.js';
import { storageError, systemReason } from '../../storage/posix/storage-error.js';
import { holdFlock } from './flock.js';
import { isProcessAlive } from './process-alive.js';

/**
 * Stanza locks and stop files, laid out as pgBackRest lays them out (repo-format.md section 11):
 * `<lock-path>/<stanza>-backup.lock`, `<stanza>-archive.lock`, `<stanza>.stop`, `all.stop`.
 *
 * pgBackRest holds its lock files with flock(), which Node cannot do itself. pgkeep creates the
 * file exclusively (O_EXCL) and writes the same content, `{"execId":"<pid>-<8 hex>","pid":<pid>}`;
 * a lock file whose process is gone is stale and taken over. pgBackRest deletes its lock files on
 * release, so one that exists with a live pid is held, by either program. So that pgbackrest sees
 * pgkeep's locks too (it only looks at flock()), pgkeep keeps its lock file open while it holds
 * the lock and has flock(1) lock that open file (see flock.ts).
 */

export type LockType = 'archive' | 'backup' | 'all';
export type LockFileType = 'archive' | 'backup';

/** What a lock file holds: who holds it, and the progress of a backup. */
export interface LockContent {
  readonly execId: string;
  readonly pid: number;
  readonly [key: string]: unknown;
}

export interface AcquireLockOptions {
  readonly lockPath: string;
  readonly stanza: string;
  readonly type: LockType;
  /** Defaults to a new one. Processes with the same exec id share a lock (the workers of one command). */
  readonly execId?: string;
  /** Written with the lock, e.g. `{ pctCplt: 0 }` when a backup starts. */
  readonly progress?: Record<string, unknown>;
  /** Keep trying this long while another process holds the lock (default 0: fail at once). */
  readonly timeoutMs?: number;
}

export interface StanzaLock {
  readonly execId: string;
  readonly type: LockType;
  /** The lock files this lock created (and so will delete), not those shared through the exec id. */
  readonly files: readonly string[];
  /**
   * Rewrites the lock's content with this progress (`{ pctCplt, sizeCplt, size }`), atomically, so
   * that another process reading it sees the old content or the new, never a mix. It goes to the
   * backup lock file when this lock has one, else to the archive lock file; a lock shared through
   * the exec id writes nothing (its creator reports progress).
   */
  update(progress: Record<string, unknown>): Promise<void>;
  /** Deletes the lock files that still hold this exec id. Calling it again does nothing. */
  release(): Promise<void>;
}

export type LockStatus = 'missing' | 'held' | 'stale' | 'invalid';

export interface LockState {
  readonly path: string;
  /** held: a live process holds it; stale: its process is gone; invalid: the content is not a lock's. */
  readonly status: LockStatus;
  readonly content?: LockContent;
  readonly alive: boolean;
}

/** Mode of a lock path that pgkeep creates (pgBackRest's). */
export const LOCK_PATH_MODE = 0o770;
const LOCK_FILE_MODE = 0o640;
/** A lock file that cannot be parsed may be one that is being written: it is stale only when older than this. */
export const INVALID_LOCK_GRACE_MS = 5_000;
const RETRY_INTERVAL_MS = 100;
/** How long an unreadable lock file is looked at again before it counts as held. */
const UNWRITTEN_SETTLE_MS = 500;
const UNWRITTEN_RETRY_MS = 10;
/** Stale files taken over in one acquisition, before giving up (each takeover follows a process that died). */
const MAX_TAKEOVERS = 3;

export function newExecId(pid: number = process.pid): string {
  return `${pid}-${randomBytes(4).toString('hex')}`;
}

export function lockFilePath(lockPath: string, stanza: string, type: LockFileType): string {
  return join(lockPath, `${checkStanza(stanza)}-${type}.lock`);
}

/** `<stanza>.stop`, or `all.stop` without a stanza. */
export function stopFilePath(lockPath: string, stanza?: string): string {
  return join(lockPath, `${stanza === undefined ? 'all' : checkStanza(stanza)}.stop`);
}

function checkStanza(stanza: string): string {
  if (stanza === '' || stanza.includes('/') || stanza === '.' || stanza === '..') {
    throw new PgkeepError('ParamInvalid', `stanza name '${stanza}' is not valid for a lock or stop file`, {
      hint: 'a stanza name cannot be empty or contain a slash',
    });
  }
  return stanza;
}

/** The compact JSON of a lock file, keys sorted as pgBackRest writes them. */
export function lockText(execId: string, pid: number, progress: Record<string, unknown> = {}): string {
  const content: Record<string, unknown> = { ...progress, execId, pid };
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(content).sort()) sorted[key] = content[key];
  return JSON.stringify(sorted);
}

/** Parses a lock file's text; undefined when it is not a lock's content (or still empty). */
export function parseLock(text: string): LockContent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const content = value as Record<string, unknown>;
  if (typeof content.execId !== 'string' || !Number.isInteger(content.pid) || (content.pid as number) <= 0) return undefined;
  return content as LockContent;
}

// ---- acquiring ----

/**
 * Takes the stanza lock of this type (`all` takes archive then backup). Fails with LockAcquire,
 * naming the file and the process that holds it, when another live process does (after waiting
 * `timeoutMs`).
 */
export async function acquireLock(options: AcquireLockOptions): Promise<StanzaLock> {
  const execId = options.execId ?? newExecId();
  const types: LockFileType[] = options.type === 'all' ? ['archive', 'backup'] : [options.type];
  const text = lockText(execId, process.pid, options.progress);
  const deadline = Date.now() + (options.timeoutMs ?? 0);
  const owned = new Map<string, FileHandle>();
  try {
    for (const type of types) {
      const path = lockFilePath(options.lockPath, options.stanza, type);
      const handle = await acquireFile(path, text, execId, deadline);
      if (handle !== undefined) owned.set(path, handle);
    }
  } catch (error) {
    await releaseFiles(owned, execId);
    throw error;
  }
  return new HeldLock(execId, options.type, owned);
}

/**
 * Creates the lock file and holds it: its open handle, flock()ed (see flock.ts); undefined when
 * the lock is shared through the exec id.
 */
async function acquireFile(path: string, text: string, execId: string, deadline: number): Promise<FileHandle | undefined> {
  const started = Date.now();
  let takeovers = 0;
  for (;;) {
    const created = await createExclusive(path, text);
    if (created !== undefined) {
      if ((await holdFlock(created, path)) !== 'held') return created;
      // pgbackrest opened the file just created and locked it first: it is pgbackrest's now.
      await created.close().catch(() => undefined);
      throw new PgkeepError('LockAcquire', `unable to acquire lock on file '${path}': held by another process`, {
        hint: 'is another pgkeep or pgbackrest process running?',
      });
    }
    const seen = await inspectLockFile(path);
    if (seen === undefined) continue; // released in the meantime (a narrow race): try again at once
    if (seen.content?.execId === execId) return undefined;
    const stale =
      seen.content === undefined ? Date.now() - seen.mtimeMs > INVALID_LOCK_GRACE_MS : !isProcessAlive(seen.content.pid);
    if (stale && takeovers < MAX_TAKEOVERS) {
      takeovers++;
      await removeStaleLockFile(path, seen);
      continue;
    }
    // An empty file is usually one its creator is still writing (pgkeep and pgbackrest both
    // create, then write): look again shortly before calling it held by an unknown process.
    const unwritten = seen.content === undefined && Date.now() < started + UNWRITTEN_SETTLE_MS;
    if (Date.now() >= deadline && !unwritten) throw heldError(path, seen);
    await sleep(unwritten ? UNWRITTEN_RETRY_MS : RETRY_INTERVAL_MS);
  }
}

/**
 * O_CREAT|O_EXCL: exactly one process creates the file. Its handle, left open (the lock is held
 * through it); undefined when the file exists.
 */
async function createExclusive(path: string, text: string): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    // Read and write: pgbackrest's lockAcquire opens it so too (flock() itself needs any mode).
    handle = await open(path, 'wx+', LOCK_FILE_MODE);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    if (code !== 'ENOENT') throw lockError(error, path);
    await createLockPath(dirname(path));
    try {
      handle = await open(path, 'wx+', LOCK_FILE_MODE);
    } catch (retryError) {
      if ((retryError as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw lockError(retryError, path);
    }
  }
  try {
    await handle.writeFile(text);
  } catch (error) {
    // An empty lock file would block everyone until it counts as stale: remove it. (Needs a full
    // file system to reach: not tested.)
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw lockError(error, path);
  }
  return handle;
}

async function createLockPath(lockPath: string): Promise<void> {
  await new PosixStorage({ basePath: lockPath }).pathCreate(lockPath, { mode: LOCK_PATH_MODE });
}

export interface SeenLockFile {
  readonly ino: number;
  readonly mtimeMs: number;
  readonly text: string;
  readonly content: LockContent | undefined;
}

/** The lock file's identity and content, read through one open file; undefined when it is gone. */
export async function inspectLockFile(path: string): Promise<SeenLockFile | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw lockError(error, path);
  }
  try {
    const stats = await handle.stat();
    const text = await handle.readFile('utf8');
    return { ino: stats.ino, mtimeMs: stats.mtimeMs, text, content: parseLock(text) };
  } catch (error) {
    throw lockError(error, path);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Removes a stale lock file without removing a live one: two processes may find the same stale
 * file, and the first may already have replaced it with its own lock by the time the second
 * removes "it". So the file is first renamed away, and only deleted when it is the very file that
 * was judged stale (same inode and content); otherwise it is put back.
 */
export async function removeStaleLockFile(path: string, seen: SeenLockFile): Promise<void> {
  const grave = `${path}.pgkeep.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, grave);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw lockError(error, path);
  }
  const moved = await inspectLockFile(grave);
  if (moved !== undefined && moved.ino === seen.ino && moved.text === seen.text) {
    const holder = seen.content === undefined ? 'content not valid' : `process ${seen.content.pid} is not running`;
    log.info(`removed stale lock file '${path}' (${holder})`);
  } else {
    // Another process's new lock: link it back (fails only if a third one took the name meanwhile).
    await linkBack(grave, path);
  }
  await unlink(grave).catch(() => undefined);
}

async function linkBack(grave: string, path: string): Promise<void> {
  await link(grave, path).catch((error: unknown) => log.warn(`unable to restore lock file '${path}': ${String(error)}`));
}

function heldError(path: string, seen: SeenLockFile): PgkeepError {
  if (seen.content === undefined) {
    return new PgkeepError(
      'LockAcquire',
      `unable to acquire lock on file '${path}': held by another process (content not yet written)`,
      {
        hint: `is another pgkeep or pgbackrest process running? a lock file that stays unreadable is removed after ${INVALID_LOCK_GRACE_MS / 1000} s`,
      },
    );
  }
  const pid = seen.content.pid;
  return new PgkeepError('LockAcquire', `unable to acquire lock on file '${path}': held by process ${pid}`, {
    hint: `is another pgkeep or pgbackrest process running? wait for process ${pid} to finish, or stop it`,
  });
}

function lockError(error: unknown, path: string): PgkeepError {
  const reason = error instanceof Error ? systemReason(error) : String(error);
  return new PgkeepError('LockAcquire', `unable to acquire lock on file '${path}': ${reason}`, {
    hint: storageError(error, 'openWrite', path).hint,
    cause: error,
  });
}

// ---- holding and releasing ----

class HeldLock implements StanzaLock {
  private released = false;
  readonly files: readonly string[];

  constructor(
    readonly execId: string,
    readonly type: LockType,
    /** The lock files this lock created, each with its open (flock()ed) handle. */
    private readonly handles: ReadonlyMap<string, FileHandle>,
  ) {
    this.files = [...handles.keys()];
  }

  async update(progress: Record<string, unknown>): Promise<void> {
    if (this.released) throw new PgkeepError('Assert', `lock ${this.execId} is already released`);
    const path = this.files.find((file) => file.endsWith('-backup.lock')) ?? this.files[0];
    if (path === undefined) return;
    // In place, as pgBackRest writes it: the flock() is on this file, a new one would not have it.
    // Written first and cut after: a reader may see the new text followed for a moment by the old
    // one's tail (not valid, so read as a lock still being written), but never an empty file.
    const text = Buffer.from(lockText(this.execId, process.pid, progress));
    const handle = this.handles.get(path)!;
    try {
      // A lock file removed under us (the lock path deleted) is a lock lost: another process may
      // take it now. Writing to the deleted file would hide that, so it fails as a missing file.
      const [named, held] = await Promise.all([stat(path), handle.stat()]);
      if (named.ino !== held.ino || named.dev !== held.dev) {
        throw Object.assign(new Error(`ENOENT: lock file replaced, stat '${path}'`), { code: 'ENOENT' });
      }
      await handle.write(text, 0, text.length, 0);
      await handle.truncate(text.length);
    } catch (error) {
      throw storageError(error, 'write', path);
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await releaseFiles(this.handles, this.execId);
  }
}

/**
 * Deletes each file that still holds our exec id (one that another process took over is left
 * alone), then closes it: pgBackRest's order, so no other process can lock the file it is about
 * to delete.
 */
async function releaseFiles(handles: ReadonlyMap<string, FileHandle>, execId: string): Promise<void> {
  try {
    for (const path of handles.keys()) {
      const seen = await inspectLockFile(path);
      if (seen === undefined) continue;
      if (seen.content?.execId !== execId) {
        log.warn(`lock file '${path}' no longer belongs to this process (exec id ${execId}): left in place`);
        continue;
      }
      // A failure other than ENOENT needs a lock path made read-only under us: not tested.
      await unlink(path).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(error, 'remove', path);
      });
    }
  } finally {
    for (const handle of handles.values()) await handle.close().catch(() => undefined);
  }
}

// ---- reading from another process ----

/** The state of a stanza's lock file, e.g. for `info` to show the progress of a running backup. */
export async function readLock(lockPath: string, stanza: string, type: LockFileType): Promise<LockState> {
  const path = lockFilePath(lockPath, stanza, type);
  const seen = await inspectLockFile(path);
  if (seen === undefined) return { path, status: 'missing', alive: false };
  if (seen.content === undefined) return { path, status: 'invalid', alive: false };
  const alive = isProcessAlive(seen.content.pid);
  return { path, status: alive ? 'held' : 'stale', content: seen.content, alive };
}

// ---- stop files ----

/** Whether the stanza's stop file exists; without a stanza, whether `all.stop` does. */
export async function stopFileExists(lockPath: string, stanza?: string): Promise<boolean> {
  const path = stopFilePath(lockPath, stanza);
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw storageError(error, 'openRead', path);
  }
}

/** Creates the (empty) stop file; false when it already existed. */
export async function createStopFile(lockPath: string, stanza?: string): Promise<boolean> {
  const path = stopFilePath(lockPath, stanza);
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, '', { flag: 'wx', mode: LOCK_FILE_MODE });
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code === 'ENOENT' && attempt === 0) {
        await createLockPath(lockPath);
        continue;
      }
      throw storageError(error, 'openWrite', path);
    }
  }
}

/** Removes the stop file; false when there was none. */
export async function removeStopFile(lockPath: string, stanza?: string): Promise<boolean> {
  const path = stopFilePath(lockPath, stanza);
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw storageError(error, 'remove', path);
  }
}

/** Fails with Stop when the stanza, or all stanzas, are stopped (pgBackRest's messages). */
export async function checkNotStopped(lockPath: string, stanza?: string): Promise<void> {
  if (stanza !== undefined && (await stopFileExists(lockPath, stanza))) {
    throw new PgkeepError('Stop', `stop file exists for stanza ${stanza}`, { hint: `run 'pgkeep start --stanza=${stanza}'` });
  }
  if (await stopFileExists(lockPath)) {
    throw new PgkeepError('Stop', 'stop file exists for all stanzas', { hint: "run 'pgkeep start'" });
  }
}
