import type { Readable } from 'node:stream';

/**
 * One storage interface for every place pgkeep reads and writes: the repository, a data
 * directory, a spool directory. Paths are absolute or relative to the storage's base path. The
 * posix driver works on the local file system; a remote driver (over the pgkeep protocol) and an
 * object-store driver implement the same interface, so nothing above it knows where bytes live.
 */

export type StorageEntryType = 'file' | 'path' | 'link' | 'special';

export interface StorageInfo {
  /** For `list`, the name relative to the listed directory (`base/1/1234` with recurse); for `info`, the path as given. */
  readonly name: string;
  readonly type: StorageEntryType;
  /** Bytes, for files (0 for anything else). */
  readonly size: number;
  /** Modification time in whole seconds since the epoch (what manifests record). */
  readonly mtime: number;
  /** Permission bits, e.g. 0o600. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Owner names, or null when the id has no name on this host. */
  readonly user: string | null;
  readonly group: string | null;
  /** Link destination, for links. */
  readonly linkDestination?: string;
}

export interface ListOptions {
  /** Only names matching this expression. */
  readonly filter?: RegExp;
  /** Descend into subdirectories; names are then relative paths (`base/1/1234`). */
  readonly recurse?: boolean;
  /** A missing directory lists as empty instead of failing. */
  readonly ignoreMissing?: boolean;
}

export interface ReadOptions {
  /** A missing file reads as undefined instead of failing. */
  readonly ignoreMissing?: boolean;
  /** Start reading at this byte. */
  readonly offset?: number;
  /** Read at most this many bytes. */
  readonly limit?: number;
}

export interface WriteOptions {
  /** File mode (default 0o640). */
  readonly mode?: number;
  /** Owner to set (by name; needs privileges). */
  readonly user?: string;
  readonly group?: string;
  /** Modification time to set, seconds since the epoch. */
  readonly mtime?: number;
  /** Create missing parent directories (default true). */
  readonly createPath?: boolean;
  /** Mode of created parent directories (default 0o750). */
  readonly pathMode?: number;
  /**
   * Write through a temporary name, fsync, rename, fsync the directory (default true). Only
   * restores into a data directory that is verified afterwards write in place.
   */
  readonly atomic?: boolean;
  /** fsync the file and its directory (default true). */
  readonly sync?: boolean;
  /**
   * fsync the directory after the rename (default: as `sync`). A caller that writes many files
   * into the same directories (a backup) passes false and syncs each directory once with
   * pathSync before it records its work, as pgBackRest does: one directory fsync instead of one
   * per file.
   */
  readonly syncPath?: boolean;
}

export interface PathCreateOptions {
  readonly mode?: number;
  /** Fail when the directory exists (default false). */
  readonly errorOnExists?: boolean;
  /** Create missing parents (default true). */
  readonly recurse?: boolean;
}

export interface RemoveOptions {
  /** A missing file or directory is not an error (default true). */
  readonly ignoreMissing?: boolean;
  /** Remove a directory with all it contains. */
  readonly recurse?: boolean;
}

export interface Storage {
  /** The absolute base path relative paths are resolved against. */
  readonly basePath: string;

  /** Absolute path of a storage path. */
  resolve(path: string): string;

  /** Describes a path; a link itself unless `followLink`. Missing: undefined with `ignoreMissing`, else FileMissing. */
  info(path: string, options?: { ignoreMissing?: boolean; followLink?: boolean }): Promise<StorageInfo | undefined>;
  /** Whether a file exists (links followed); false for a directory. */
  exists(path: string): Promise<boolean>;
  /** Whether a directory exists (links followed). */
  pathExists(path: string): Promise<boolean>;
  /** The entries of a directory sorted by name (so a directory comes before its contents); links are not followed. */
  list(path: string, options?: ListOptions): Promise<StorageInfo[]>;

  /** A stream of the file's bytes; undefined when missing and ignoreMissing. */
  read(path: string, options?: ReadOptions): Promise<Readable | undefined>;
  /** Reads a whole small file (info files, manifests, control files). */
  readBuffer(path: string, options?: ReadOptions): Promise<Buffer | undefined>;

  /**
   * Writes the stream's bytes to the file. With `atomic` (the default) nothing is visible under
   * the final name until every byte is on disk.
   */
  write(path: string, source: Readable | AsyncIterable<Uint8Array> | Uint8Array, options?: WriteOptions): Promise<void>;

  /** Removes a file; a directory only with `recurse`. */
  remove(path: string, options?: RemoveOptions): Promise<void>;
  /**
   * Renames a file or directory, creating the destination's directory when missing, and syncs the
   * directories involved. Across file systems it fails (FileMove): a move is never a copy.
   */
  move(from: string, to: string): Promise<void>;
  pathCreate(path: string, options?: PathCreateOptions): Promise<void>;
  pathRemove(path: string, options?: RemoveOptions): Promise<void>;
  /** fsync a directory so renames and creates in it are durable. */
  pathSync(path: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  hardlink(existing: string, path: string): Promise<void>;
}
