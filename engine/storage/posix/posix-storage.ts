import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
  type Dirent,
  type Stats,
} from 'node:fs';
import {
  chmod,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  rmdir,
  stat,
  symlink,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

import { PgkeepError } from '../../error/pgkeep-error.js';
import type {
  ListOptions,
  PathCreateOptions,
  ReadOptions,
  RemoveOptions,
  Storage,
  StorageEntryType,
  StorageInfo,
  WriteOptions,
} from '../storage.js';
import { FileReadStream } from './file-read-stream.js';
import { storageError, type StorageAction } from './storage-error.js';
import { groupId, groupName, userId, userName } from './user-group.js';
import { writeSource, type WriteSource } from './write-source.js';

export interface PosixStorageOptions {
  /** Relative paths are resolved against this directory (itself resolved against the working directory). */
  readonly basePath: string;
  /** Mode of written files when a write does not say (default 0o640). */
  readonly fileMode?: number;
  /** Mode of created directories when a call does not say (default 0o750). */
  readonly pathMode?: number;
  /** Largest chunk a read stream yields (default 256 KiB). */
  readonly chunkSize?: number;
}

const DEFAULT_FILE_MODE = 0o640;
const DEFAULT_PATH_MODE = 0o750;
const DEFAULT_CHUNK_SIZE = 256 * 1024;
/** How many entries of one directory `list` stats at once. */
const LIST_CONCURRENCY = 128;
/** Buffers up to this size are written with synchronous calls (see writeSmall). */
const SMALL_WRITE = 1024 * 1024;
const fsyncAsync = promisify(fsync);
/** Marks temporary files of atomic writes; a crash can leave one behind, never a partial final file. */
export const TEMP_MARK = '.pgkeep.tmp.';

/**
 * Storage on the local file system.
 *
 * A write is atomic by default: the bytes go to `<name>.pgkeep.tmp.<pid>.<random>` in the same
 * directory, which gets the mode, owner and mtime, is fsynced and renamed over the final name,
 * and then the directory is fsynced. Whatever fails, the temporary file is removed, so nothing
 * half-written is ever visible under a final name.
 */
export class PosixStorage implements Storage {
  readonly basePath: string;
  private readonly fileMode: number;
  private readonly pathMode: number;
  private readonly chunkSize: number;

  constructor(options: PosixStorageOptions) {
    this.basePath = resolvePath(options.basePath);
    this.fileMode = options.fileMode ?? DEFAULT_FILE_MODE;
    this.pathMode = options.pathMode ?? DEFAULT_PATH_MODE;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  }

  resolve(path: string): string {
    return resolvePath(this.basePath, path);
  }

  // ---- information ----

  async info(path: string, options: { ignoreMissing?: boolean; followLink?: boolean } = {}): Promise<StorageInfo | undefined> {
    const absolute = this.resolve(path);
    try {
      const stats = options.followLink === true ? await stat(absolute) : await lstat(absolute);
      return await toInfo(path, absolute, stats);
    } catch (error) {
      if (options.ignoreMissing === true && isMissing(error)) return undefined;
      throw storageError(error, 'info', absolute);
    }
  }

  /** Whether a file (or a link to one, or a special file) exists; false for a directory. */
  async exists(path: string): Promise<boolean> {
    const stats = await this.statOrUndefined(path);
    return stats !== undefined && !stats.isDirectory();
  }

  /** Whether a directory (or a link to one) exists. */
  async pathExists(path: string): Promise<boolean> {
    const stats = await this.statOrUndefined(path);
    return stats !== undefined && stats.isDirectory();
  }

  private async statOrUndefined(path: string): Promise<Stats | undefined> {
    const absolute = this.resolve(path);
    try {
      return await stat(absolute);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw storageError(error, 'info', absolute);
    }
  }

  /**
   * The entries of a directory, sorted by name, so that with `recurse` a directory comes before
   * what it contains. With `recurse` names are relative paths (`base/1/1234`), the filter is
   * matched against them, and every directory is descended into whether it matches or not. An
   * entry that disappears while listing (a live data directory) is left out. Links are not
   * followed.
   */
  async list(path: string, options: ListOptions = {}): Promise<StorageInfo[]> {
    const absolute = this.resolve(path);
    // A global or sticky expression keeps state between test() calls: use a copy without it.
    const filter =
      options.filter === undefined || !/[gy]/.test(options.filter.flags)
        ? options.filter
        : new RegExp(options.filter.source, options.filter.flags.replace(/[gy]/g, ''));
    const result: StorageInfo[] = [];
    const found = await this.listInto(absolute, '', filter, options.recurse === true, result);
    if (!found && options.ignoreMissing !== true) {
      throw new PgkeepError('PathMissing', `unable to list directory '${absolute}': no such file or directory`);
    }
    // Names are unique: no need to answer 0.
    return result.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Adds the entries under `absolute` to `result`; false when the directory does not exist. */
  private async listInto(
    absolute: string,
    prefix: string,
    filter: RegExp | undefined,
    recurse: boolean,
    result: StorageInfo[],
  ): Promise<boolean> {
    let entries: Dirent[];
    try {
      entries = await readdir(absolute, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Below the top, a directory removed (or replaced) since its parent was read is left out.
      if (code === 'ENOENT' || (code === 'ENOTDIR' && prefix !== '')) return false;
      throw storageError(error, 'list', absolute);
    }
    const wanted = filter === undefined ? entries : entries.filter((entry) => filter.test(prefix + entry.name));
    for (let start = 0; start < wanted.length; start += LIST_CONCURRENCY) {
      const batch = wanted.slice(start, start + LIST_CONCURRENCY);
      const infos = await Promise.all(batch.map((entry) => this.entryInfo(join(absolute, entry.name), prefix + entry.name)));
      for (const info of infos) if (info !== undefined) result.push(info);
    }
    if (recurse) {
      for (const entry of entries) {
        if (entry.isDirectory()) await this.listInto(join(absolute, entry.name), `${prefix}${entry.name}/`, filter, true, result);
      }
    }
    return true;
  }

  private async entryInfo(absolute: string, name: string): Promise<StorageInfo | undefined> {
    try {
      return await toInfo(name, absolute, await lstat(absolute));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw storageError(error, 'info', absolute);
    }
  }

  // ---- reading ----

  async read(path: string, options: ReadOptions = {}): Promise<Readable | undefined> {
    const absolute = this.resolve(path);
    const handle = await this.openRead(absolute, options.ignoreMissing === true);
    if (handle === undefined) return undefined;
    let size: number;
    try {
      const stats = await run(handle.stat(), 'info', absolute);
      if (stats.isDirectory()) throw new PgkeepError('FileOpen', `unable to open '${absolute}' for read: it is a directory`);
      size = stats.size;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    return new FileReadStream(handle, absolute, size, options.offset ?? 0, options.limit ?? Infinity, this.chunkSize);
  }

  async readBuffer(path: string, options: ReadOptions = {}): Promise<Buffer | undefined> {
    const absolute = this.resolve(path);
    if (options.offset === undefined && options.limit === undefined) {
      try {
        return await readFile(absolute);
      } catch (error) {
        if (options.ignoreMissing === true && isMissing(error)) return undefined;
        throw storageError(error, isMissing(error) ? 'openRead' : 'read', absolute);
      }
    }
    // A range: one buffer of the range's size (as far as the file goes), filled in place.
    const handle = await this.openRead(absolute, options.ignoreMissing === true);
    if (handle === undefined) return undefined;
    try {
      const stats = await run(handle.stat(), 'info', absolute);
      if (stats.isDirectory()) throw new PgkeepError('FileOpen', `unable to open '${absolute}' for read: it is a directory`);
      const offset = options.offset ?? 0;
      const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(options.limit ?? Infinity, stats.size - offset)));
      let done = 0;
      while (done < buffer.length) {
        const { bytesRead } = await run(handle.read(buffer, done, buffer.length - done, offset + done), 'read', absolute);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buffer.subarray(0, done);
    } finally {
      await handle.close();
    }
  }

  /**
   * The file opened for reading, for a caller that reads it in its own loop (a backup's lz4 copy);
   * the caller closes it. A missing file is a FileMissing error, as for read().
   */
  async openHandle(path: string): Promise<FileHandle> {
    return (await this.openRead(this.resolve(path), false))!;
  }

  private async openRead(absolute: string, ignoreMissing: boolean): Promise<FileHandle | undefined> {
    try {
      return await open(absolute, 'r');
    } catch (error) {
      if (ignoreMissing && isMissing(error)) return undefined;
      throw storageError(error, 'openRead', absolute);
    }
  }

  // ---- writing ----

  async write(path: string, source: WriteSource, options: WriteOptions = {}): Promise<void> {
    const absolute = this.resolve(path);
    const atomic = options.atomic ?? true;
    const sync = options.sync ?? true;
    const syncPath = options.syncPath ?? sync;
    const mode = options.mode ?? this.fileMode;
    const owner = resolveOwner(options.user, options.group, absolute);
    const writeName = atomic ? `${absolute}${TEMP_MARK}${process.pid}.${randomBytes(4).toString('hex')}` : absolute;
    if (source instanceof Uint8Array && source.byteLength <= SMALL_WRITE && owner === undefined && options.mtime === undefined) {
      await this.writeSmall(absolute, writeName, source, atomic, sync, mode, options);
      if (syncPath) await this.syncDirectory(dirname(absolute));
      return;
    }

    let handle: FileHandle | undefined;
    let created = false;
    try {
      handle = await this.openWrite(absolute, writeName, atomic, mode, options);
      created = true;
      if (owner !== undefined) await applyOwner(handle, owner, absolute);
      // A new file has `mode` less the umask; an existing one (written in place) keeps its own.
      if (!atomic || (mode & ~processUmask()) !== mode) await run(handle.chmod(mode), 'mode', absolute);
      await writeSource(handle, source, absolute);
      if (options.mtime !== undefined) await run(handle.utimes(options.mtime, options.mtime), 'time', absolute);
      if (sync) await run(handle.sync(), 'sync', absolute);
      const closing = handle;
      handle = undefined;
      await run(closing.close(), 'close', absolute);
      if (atomic) await run(rename(writeName, absolute), 'move', writeName, absolute);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      // Nothing half-written stays: not the temporary file, nor a regular file written in place
      // (in place, the name may also be a device or a pipe, which is not ours to remove).
      if (created && (atomic || (await lstat(writeName).catch(() => undefined))?.isFile() === true)) {
        await unlink(writeName).catch(() => undefined);
      }
      throw error;
    }
    if (syncPath) await this.syncDirectory(dirname(absolute));
  }

  /**
   * write() of a small buffer: the same steps with synchronous system calls but the fsync (a
   * small file's open, write, close and rename take microseconds each from the page cache, less
   * than a round trip through the thread pool; most files of a backup are small, and their
   * round trips left a backup worker idle half the time at the end of a backup).
   */
  private async writeSmall(
    absolute: string,
    writeName: string,
    data: Uint8Array,
    atomic: boolean,
    sync: boolean,
    mode: number,
    options: WriteOptions,
  ): Promise<void> {
    let opened = openWriteSync(writeName, absolute, atomic, mode, options.createPath !== false);
    if (opened === undefined) {
      await this.createTree(dirname(absolute), options.pathMode ?? this.pathMode, options.syncPath ?? sync);
      opened = openWriteSync(writeName, absolute, atomic, mode, false);
    }
    const fd = opened!;
    let closed = false;
    try {
      if (!atomic || (mode & ~processUmask()) !== mode) runSync(() => fchmodSync(fd, mode), 'mode', absolute);
      let offset = 0;
      while (offset < data.byteLength) offset += runSync(() => writeSync(fd, data, offset), 'write', absolute);
      if (sync) await run(fsyncAsync(fd), 'sync', absolute);
      closed = true;
      runSync(() => closeSync(fd), 'close', absolute);
      if (atomic) runSync(() => renameSync(writeName, absolute), 'move', writeName, absolute);
    } catch (error) {
      if (!closed) {
        try {
          closeSync(fd);
        } catch {
          // the write's own error is the one to report
        }
      }
      if (atomic || lstatSync(writeName, { throwIfNoEntry: false })?.isFile() === true) rmSync(writeName, { force: true });
      throw error;
    }
  }

  private async openWrite(
    absolute: string,
    writeName: string,
    atomic: boolean,
    mode: number,
    options: WriteOptions,
  ): Promise<FileHandle> {
    // O_EXCL for a temporary name: never write into someone else's file.
    const flags = atomic ? 'wx' : 'w';
    try {
      return await open(writeName, flags, mode);
    } catch (error) {
      if (!isMissing(error) || options.createPath === false) throw storageError(error, 'openWrite', absolute);
    }
    await this.createTree(dirname(absolute), options.pathMode ?? this.pathMode, options.syncPath ?? options.sync ?? true);
    try {
      return await open(writeName, flags, mode);
    } catch (error) {
      throw storageError(error, 'openWrite', absolute);
    }
  }

  /**
   * mkdir -p with exact modes. With `sync` every directory that got a new entry is fsynced (but
   * the last, which the caller syncs after its own change), so that new directories survive a crash.
   */
  private async createTree(path: string, mode: number, sync: boolean): Promise<void> {
    let first: string | undefined;
    try {
      first = await mkdir(path, { recursive: true, mode });
    } catch (error) {
      throw storageError(error, 'pathCreate', path);
    }
    if (first === undefined) return;
    const created = [first];
    for (let below = path; below !== first; below = dirname(below)) created.splice(1, 0, below);
    if ((mode & ~processUmask()) !== mode) {
      for (const directory of created) await run(chmod(directory, mode), 'mode', directory);
    }
    if (sync) {
      for (const directory of [dirname(first), ...created.slice(0, -1)]) await this.syncDirectory(directory);
    }
  }

  // ---- removing, moving, directories, links ----

  async remove(path: string, options: RemoveOptions = {}): Promise<void> {
    const absolute = this.resolve(path);
    try {
      await unlink(absolute);
    } catch (error) {
      if (isMissing(error)) {
        if (options.ignoreMissing ?? true) return;
      } else if (options.recurse === true && isDirectoryError(error)) {
        return this.pathRemove(path, { ignoreMissing: options.ignoreMissing ?? true, recurse: true });
      }
      throw storageError(error, 'remove', absolute);
    }
  }

  /**
   * Renames a file or directory, creating the destination's directory when missing, and syncs the
   * directories involved. Across file systems it fails (FileMove): a copy is not a move.
   */
  async move(from: string, to: string): Promise<void> {
    const source = this.resolve(from);
    const destination = this.resolve(to);
    try {
      await rename(source, destination);
    } catch (error) {
      // ENOENT: either the source is missing (an error) or the destination's directory (created here).
      if (!isMissing(error) || (await this.info(source, { ignoreMissing: true })) === undefined) {
        throw storageError(error, 'move', source, destination);
      }
      await this.createTree(dirname(destination), this.pathMode, true);
      await run(rename(source, destination), 'move', source, destination);
    }
    await this.syncDirectory(dirname(destination));
    if (dirname(source) !== dirname(destination)) await this.syncDirectory(dirname(source));
  }

  async pathCreate(path: string, options: PathCreateOptions = {}): Promise<void> {
    const absolute = this.resolve(path);
    const mode = options.mode ?? this.pathMode;
    const recurse = options.recurse ?? true;
    if (recurse && options.errorOnExists !== true) return this.createTree(absolute, mode, false);
    try {
      await mkdir(absolute, { mode });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && options.errorOnExists !== true && (await this.pathExists(absolute))) return;
      if (code === 'ENOENT' && recurse) {
        await this.createTree(dirname(absolute), mode, false);
        return this.pathCreate(path, { ...options, recurse: false });
      }
      throw storageError(error, 'pathCreate', absolute);
    }
    if ((mode & ~processUmask()) !== mode) await run(chmod(absolute, mode), 'mode', absolute);
  }

  async pathRemove(path: string, options: RemoveOptions = {}): Promise<void> {
    const absolute = this.resolve(path);
    const ignoreMissing = options.ignoreMissing ?? true;
    try {
      if (options.recurse === true) {
        // rm() on a missing path fails, so `force` is not used: it would also hide other errors.
        await rm(absolute, { recursive: true });
      } else {
        await rmdir(absolute);
      }
    } catch (error) {
      if (ignoreMissing && isMissing(error)) return;
      throw storageError(error, 'pathRemove', absolute);
    }
  }

  async pathSync(path: string): Promise<void> {
    await this.syncDirectory(this.resolve(path));
  }

  private async syncDirectory(absolute: string): Promise<void> {
    const handle = await run(open(absolute, 'r'), 'pathOpen', absolute);
    try {
      await run(handle.sync(), 'pathSync', absolute);
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /** Creates the link `path` pointing to `target` (kept as given: a relative target is relative to the link). */
  async symlink(target: string, path: string): Promise<void> {
    const absolute = this.resolve(path);
    await run(symlink(target, absolute), 'link', absolute, target);
  }

  async hardlink(existing: string, path: string): Promise<void> {
    const absolute = this.resolve(path);
    const source = this.resolve(existing);
    try {
      await link(source, absolute);
    } catch (error) {
      // ENOENT may mean the existing file is missing or the new name's directory is.
      if (isMissing(error) && (await this.info(source, { ignoreMissing: true })) === undefined) {
        throw storageError(error, 'openRead', source);
      }
      throw storageError(error, 'link', absolute, source);
    }
  }
}

// ---- helpers ----

/** Opens `writeName` as write() does; undefined when its directory is missing and `missingOk`. */
function openWriteSync(
  writeName: string,
  absolute: string,
  atomic: boolean,
  mode: number,
  missingOk: boolean,
): number | undefined {
  try {
    // O_EXCL for a temporary name: never write into someone else's file.
    return openSync(writeName, atomic ? 'wx' : 'w', mode);
  } catch (error) {
    if (missingOk && isMissing(error)) return undefined;
    throw storageError(error, 'openWrite', absolute);
  }
}

function runSync<T>(operation: () => T, action: StorageAction, path: string, target?: string): T {
  try {
    return operation();
  } catch (error) {
    throw storageError(error, action, path, target);
  }
}

async function run<T>(operation: Promise<T>, action: StorageAction, path: string, target?: string): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw storageError(error, action, path, target);
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function isDirectoryError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EISDIR';
}

function entryType(stats: Stats): StorageEntryType {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'path';
  if (stats.isSymbolicLink()) return 'link';
  return 'special';
}

async function toInfo(name: string, absolute: string, stats: Stats): Promise<StorageInfo> {
  const type = entryType(stats);
  const info = {
    name,
    type,
    size: type === 'file' ? stats.size : 0,
    mtime: Math.floor(stats.mtimeMs / 1000),
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    user: userName(stats.uid),
    group: groupName(stats.gid),
  };
  return type === 'link' ? { ...info, linkDestination: await readlink(absolute) } : info;
}

interface Owner {
  readonly uid: number;
  readonly gid: number;
  readonly text: string;
}

/** Owner names to ids (-1 keeps what the file has); an unknown name is an error before anything is written. */
function resolveOwner(user: string | undefined, group: string | undefined, path: string): Owner | undefined {
  if (user === undefined && group === undefined) return undefined;
  const uid = user === undefined ? -1 : userId(user);
  const gid = group === undefined ? -1 : groupId(group);
  if (uid === undefined || gid === undefined) {
    const [kind, name] = uid === undefined ? ['user', user] : ['group', group];
    throw new PgkeepError('UserMissing', `unable to set owner of '${path}': ${kind} '${name}' does not exist on this host`, {
      hint: `create the ${kind} or map the owner to an existing one`,
    });
  }
  return { uid, gid, text: `${user ?? ''}:${group ?? ''}` };
}

/**
 * As root, gives the file to the owner. Anyone else cannot, so it is an error unless the file
 * already has that owner (the common case of writing as the user the owner names).
 */
async function applyOwner(handle: FileHandle, owner: Owner, path: string): Promise<void> {
  if (process.geteuid?.() === 0) {
    await run(handle.chown(owner.uid, owner.gid), 'owner', path);
    return;
  }
  // Not root: tested by the permission test's child process (whose coverage is not collected).
  const stats = await run(handle.stat(), 'info', path);
  if ((owner.uid === -1 || owner.uid === stats.uid) && (owner.gid === -1 || owner.gid === stats.gid)) return;
  throw new PgkeepError(
    'FileOwner',
    `unable to set owner of '${path}' to '${owner.text}': only root can change the owner of a file (running as uid ${process.geteuid?.()})`,
    { hint: 'run as root, or as the user the file is to belong to' },
  );
}

let umask: number | undefined;

/**
 * The process umask, read once from /proc (process.umask() without an argument is deprecated).
 * When it cannot be read every mode is applied with chmod, which is always right.
 */
export function processUmask(): number {
  if (umask === undefined) {
    // Linux has the Umask line since 4.7; the fallbacks serve other systems (not reached in tests).
    try {
      const status = readFileSync('/proc/self/status', 'utf8');
      const match = /^Umask:\s*([0-7]+)$/m.exec(status);
      umask = match === null ? 0o7777 : parseInt(match[1]!, 8);
    } catch {
      umask = 0o7777;
    }
  }
  return umask;
}
