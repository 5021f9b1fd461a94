import { createHash } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, openSync, readSync, writeSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import type { JobHandler } from '../../exec/job.js';
import { oneAtATime } from '../../exec/one-at-a-time.js';
import { decryptBuffer, DecryptFilter } from '../../filter/cipher.js';
import { isCompressType, type CompressType } from '../../filter/compress-type.js';
import { findProgram } from '../../exec/find-program.js';
import { decompressToFile, type ExternalDecompressor } from '../../filter/external-decompress.js';
import type { FilterSpec } from '../../filter/filter-spec.js';
import { Lz4FrameDecoder } from '../../filter/lz4-frame-decoder.js';
import { runPipeline } from '../../filter/pipeline.js';
import { PosixStorage, processUmask } from '../../storage/posix/posix-storage.js';
import { readSyncAtMost } from '../../storage/posix/read-sync.js';
import { storageError } from '../../storage/posix/storage-error.js';
import { Writeback } from './writeback.js';

/** Reads of at least this size: fewer system calls, better throughput. */
const MIN_BUFFER = 1024 * 1024;
/**
 * lz4 files from this size (as stored) are decompressed by the lz4 program when installed, straight
 * into the staged file, which is hashed as it grows: liblz4 is faster than our decoder,
 * it runs beside this process, and the plain bytes cross no pipe.
 */
const EXTERNAL_LZ4_MIN = 1024 * 1024;
/**
 * `--no-frame-crc`: the program does not check the frame's XXH32 content checksum (pgBackRest's
 * frames carry one), which took 70 % of its CPU (a 1 GiB pgbench segment: 0.50 s of CPU instead
 * of 0.15 s), because the file's SHA-1 is checked against the backup's right after, a stronger
 * check of the same bytes. (lz4 before 1.9.4 accepts the option and checks anyway.)
 */
const lz4Program: ExternalDecompressor = {
  program: 'lz4',
  args: ['-d', '-c', '-q', '--no-frame-crc'],
  format: 'lz4',
  aptPackage: 'lz4',
};
let lz4Installed: boolean | undefined;

/**
 * Hash reads: 128 KiB whatever buffer-size says, so the bytes are still in the CPU's cache when
 * they are hashed (a 1 GiB file in 0.75 s instead of 0.80 s with 1 MiB reads).
 */
const HASH_READ = 128 * 1024;
/** Bytes hashed between two turns of the event loop: the worker's other jobs and messages wait ~5 ms at most. */
const HASH_SLICE = 8 * 1024 * 1024;

/**
 * SHA-1 of the first `size` bytes of a file, read in place: delta restores hash thousands of
 * files, where streams would cost more than the hashing. Synchronous reads into one reused buffer,
 * a slice at a time: a read handed to the thread pool costs a thread switch each, which on this
 * 2-core machine made the hash slower than the reads it overlapped (a 1 GiB file beside a second
 * hashing process: 0.79-0.83 s instead of 0.88-0.95 s with two buffers and reads in the pool).
 *
 * With a `writer`, the file is still being written (by the lz4 program) and is hashed as it grows:
 * at its end so far the hash waits while the writer writes. Reads see every byte a write has put
 * in the page cache, so a read at the end of a file whose writer had already ended is its true end.
 * A writer that failed stops the hash where it is (its result is not used).
 */
async function hashPrefix(
  path: string,
  size: number,
  progress?: (bytes: number) => void,
  writer?: Writer,
): Promise<{ readonly checksum: string; readonly bytes: number }> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    throw storageError(error, 'openRead', path);
  }
  const hash = createHash('sha1');
  const buffer = Buffer.allocUnsafe(Math.min(HASH_READ, Math.max(size, 1)));
  let done = 0;
  try {
    // A file shorter than `size` now (it changed since it was listed) gives a checksum that does not match.
    let more = size > 0;
    while (more) {
      const stop = Math.min(size, done + HASH_SLICE);
      let atEnd = false;
      while (done < stop) {
        const ended = writer === undefined || writer.state !== 'writing';
        const bytesRead = readSync(fd, buffer, 0, Math.min(buffer.length, stop - done), done);
        if (bytesRead === 0) {
          atEnd = ended;
          break;
        }
        hash.update(buffer.subarray(0, bytesRead));
        done += bytesRead;
      }
      progress?.(done);
      more = !atEnd && done < size && writer?.state !== 'failed';
      // Caught up with the writer: give it a moment (a busy wait would take a core from it).
      if (more && done < stop) await sleep(WRITER_WAIT_MS);
      else if (more) await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    throw storageError(error, 'read', path);
  } finally {
    closeSync(fd);
  }
  return { checksum: hash.digest('hex'), bytes: done };
}

/** Bytes a file the lz4 program writes grows by between two syncs started while it writes (see Writeback). */
const WRITEBACK_STEP = 64 * 1024 * 1024;

/** The program writing a file that hashPrefix reads as it grows. */
interface Writer {
  state: 'writing' | 'ended' | 'failed';
}

/** How long a hash that caught up with the file's writer waits before it reads again. */
const WRITER_WAIT_MS = 2;

const oneStreamAtATime = oneAtATime();

/** Repository files up to this size (as stored) are read whole: see the copy job below. */
const SMALL_REPO_FILE = 256 * 1024;

/** The plain bytes of a whole lz4 file (errors name `file`, as the streaming filter's do). */
function lz4DecodeWhole(stored: Buffer, file: string): Buffer {
  const decoder = new Lz4FrameDecoder(file);
  const chunks: Buffer[] = [];
  decoder.decode(stored, (data) => chunks.push(data));
  decoder.finish();
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** The decompression stage of a repository file (none for compress type none). */
function decompression(compressType: CompressType, file: string): FilterSpec[] {
  return compressType === 'none' ? [] : [{ type: 'decompress', compressType, file }];
}

/** Whether the lz4 program decompresses this file (see EXTERNAL_LZ4_MIN). */
function throughProgram(compressType: CompressType, storedSize: number): boolean {
  return compressType === 'lz4' && storedSize >= EXTERNAL_LZ4_MIN && (lz4Installed ??= findProgram('lz4') !== undefined);
}

/*
 * A small file is read and written with synchronous calls: from and to the page cache each takes
 * microseconds, less than a round trip through the thread pool (an asynchronous open alone cost
 * a restore worker about 0.1 ms of CPU), and a restore has hundreds of small files.
 */

/** Writes the staged file of a small file, with its owner, mode and time; returns its size and SHA-1. */
function writeWholeSync(job: CopyJob, data: Buffer): { readonly size: number; readonly checksum: string } {
  let fd: number;
  try {
    fd = openSync(job.stagePath, STAGE_FLAGS, job.mode);
  } catch (error) {
    throw storageError(error, 'openWrite', job.stagePath);
  }
  try {
    for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset, data.length - offset);
    finishStage(fd, job);
  } catch (error) {
    /* v8 ignore next -- a file this job just created fails to write only on a full disk or an I/O error */
    throw storageError(error, 'write', job.stagePath);
  } finally {
    closeSync(fd);
  }
  return { size: data.length, checksum: createHash('sha1').update(data).digest('hex') };
}

/** A staged file is created new, never through a link. */
const STAGE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/** Creates the staged file, as the job's mode. */
async function openStage(job: CopyJob): Promise<FileHandle> {
  return open(job.stagePath, STAGE_FLAGS, job.mode).catch((error: unknown) => {
    throw storageError(error, 'openWrite', job.stagePath);
  });
}

/**
 * Owner, mode and time of a staged file. Not synced here: the restore syncs every fetched file at
 * the end, many at once, which is far faster (a file the lz4 program writes is written back while it
 * is written and hashed: see restoreThroughProgram).
 */
function finishStage(fd: number, job: CopyJob): void {
  if (job.uid !== undefined || job.gid !== undefined) fchownSync(fd, job.uid ?? -1, job.gid ?? -1);
  // A new file has the mode less the umask: set it only when the umask took something away.
  if ((job.mode & ~processUmask()) !== job.mode) fchmodSync(fd, job.mode);
  futimesSync(fd, job.mtime, job.mtime);
}

/**
 * The lz4 program decompresses the repository file straight into the staged file, which is hashed
 * as it grows (one byte past the recorded size is read, so a longer file shows). The source is the
 * repository file itself (the program's stdin) unless it is part of a bundle.
 */
async function restoreThroughProgram(
  source: Readable | FileHandle,
  job: CopyJob,
  progress: (bytes: number) => void,
): Promise<{ readonly size: number; readonly checksum: string }> {
  const handle = await openStage(job);
  try {
    // The hash follows the program instead of reading the file back after it: a 1 GiB file's
    // decompression (about 0.4 s) no longer comes before its hash (about 0.8 s).
    const writer: Writer = { state: 'writing' };
    const writeback = new Writeback(handle, WRITEBACK_STEP);
    const followed = (bytes: number) => {
      progress(bytes);
      writeback.grew(bytes);
    };
    const hashing = hashPrefix(job.stagePath, job.size + 1, followed, writer);
    // Seen below, once the program is done; until then its failure must not count as unhandled.
    void Promise.allSettled([hashing]);
    try {
      await decompressToFile(lz4Program, source, handle.fd, job.stagePath, job.repoPath);
      writer.state = 'ended';
    } catch (error) {
      writer.state = 'failed';
      await writeback.stop();
      await Promise.allSettled([hashing]);
      throw error;
    }
    finishStage(handle.fd, job);
    // The file goes to disk while the rest is hashed: the restore's final sync, which would have
    // waited for this writeback, finds it done (a 1 GiB file: 0.7 s of writeback).
    await writeback.stop();
    const [synced, hashed] = await Promise.allSettled([handle.datasync(), hashing]);
    if (hashed.status === 'rejected') throw hashed.reason;
    /* v8 ignore next -- the fsync of a file just written fails only on an I/O error */
    if (synced.status === 'rejected') throw storageError(synced.reason, 'sync', job.stagePath);
    return { size: hashed.value.bytes, checksum: hashed.value.checksum };
  } catch (error) {
    throw error instanceof PgkeepError ? error : storageError(error, 'write', job.stagePath);
  } finally {
    await handle.close();
  }
}

/** Opens a repository file for the lz4 program, which would read a directory as empty input. */
async function openRegularFile(repo: PosixStorage, path: string): Promise<FileHandle> {
  const handle = await repo.openHandle(path);
  if ((await handle.stat()).isFile()) return handle;
  await handle.close();
  throw new PgkeepError('FileRead', `unable to read '${path}': not a regular file`);
}

/** A restore job, as the restore sends it to a worker: plain data. */
export type RestoreFileJob =
  /** Delta: the SHA-1 of the first `size` bytes of existing files (small ones batched in one job). */
  | {
      readonly kind: 'hash';
      readonly files: readonly { readonly path: string; readonly size: number }[];
    }
  /** Fetch a file from the repository into its staging path, verified against the backup's size and SHA-1. */
  | {
      readonly kind: 'copy';
      /** The file's manifest name, for messages. */
      readonly name: string;
      readonly repoPath: string;
      readonly offset: number | null;
      readonly limit: number | null;
      /** Bytes of the file in the repository. */
      readonly repoSize: number;
      readonly compressType: string;
      readonly stagePath: string;
      readonly size: number;
      readonly checksum: string;
      readonly mode: number;
      /** Owner ids to set (root only); undefined leaves them. */
      readonly uid: number | undefined;
      readonly gid: number | undefined;
      readonly mtime: number;
      readonly bufferSize: number;
      /** The backup's passphrase (its manifest's) in an encrypted repository. */
      readonly cipherPass?: string | undefined;
    };

type CopyJob = Extract<RestoreFileJob, { kind: 'copy' }>;

export type RestoreFileResult =
  | { readonly kind: 'hash'; readonly checksums: readonly string[] }
  | { readonly kind: 'copy'; readonly size: number; readonly checksum: string };

/**
 * The restore's file job. Copies stream in one pass: repository bytes are read in 1 MiB chunks,
 * decompressed, counted and hashed on their way to the staging file, which gets its mode, owner
 * and time (the restore syncs the files later, all at once); memory stays at a few buffers
 * whatever the file size. A copy whose size or SHA-1 is not the backup's is removed and fails naming the repository
 * file. Files are opened without following links (O_NOFOLLOW).
 */
export const handler: JobHandler<RestoreFileJob, RestoreFileResult> = async (job, context) => {
  if (job.kind === 'hash') {
    const checksums: string[] = [];
    let done = 0;
    for (const file of job.files) {
      checksums.push((await hashPrefix(file.path, file.size)).checksum);
      context.progress((done += file.size));
    }
    return { kind: 'hash', checksums };
  }
  const highWaterMark = Math.max(job.bufferSize, MIN_BUFFER);

  const compressType = job.compressType;
  if (!isCompressType(compressType)) throw new PgkeepError('Assert', `unknown compress type '${compressType}'`);
  const repo = new PosixStorage({ basePath: '/', chunkSize: highWaterMark });
  const range = { ...(job.offset === null ? {} : { offset: job.offset }), ...(job.limit === null ? {} : { limit: job.limit }) };
  // Most files of a cluster are small: read whole and decoded in one call, without a stream pipeline each.
  const whole =
    job.repoSize <= SMALL_REPO_FILE && (compressType === 'lz4' || compressType === 'none')
      ? // Bounded: a repository file longer than recorded gives one byte too many, and fails the checks.
        readSyncAtMost(job.repoPath, job.offset ?? 0, job.limit ?? job.repoSize + 1)
      : undefined;
  // A large lz4 file on its own (not in a bundle) is read by the lz4 program itself, from the file
  // opened here: its bytes do not pass through this process (a 1 GiB pgbench segment restored in
  // 1.82-1.89 s instead of 1.94-2.11 s at process-max 2).
  const viaProgram = whole === undefined && throughProgram(compressType, job.repoSize);
  const cipherPass = job.cipherPass;
  // An encrypted file reaches the program decrypted, through this process.
  const direct = viaProgram && job.offset === null && cipherPass === undefined;
  const opened = direct ? await openRegularFile(repo, job.repoPath) : undefined;
  const stored = whole === undefined && !direct ? await repo.read(job.repoPath, range) : undefined;
  const source =
    stored === undefined || cipherPass === undefined
      ? stored
      : pipeline(stored, new DecryptFilter(cipherPass, job.repoPath), () => {});
  const hash = createHash('sha1');
  let written = 0;
  // Size and SHA-1 are taken in the sink: no stream stage per measurement for the many small files.
  const sink = async (data: AsyncIterable<Buffer> | Iterable<Buffer>) => {
    const handle = await openStage(job);
    try {
      // Decompressed data may arrive in small pieces (zlib's are 16 KiB): gather them into writes
      // of a buffer's size, one system call per MiB instead of dozens.
      const gather = Buffer.allocUnsafe(highWaterMark);
      let gathered = 0;
      const flush = async () => {
        let offset = 0;
        while (offset < gathered) offset += (await handle.write(gather, offset, gathered - offset)).bytesWritten;
        gathered = 0;
      };
      for await (const chunk of data) {
        hash.update(chunk);
        if (gathered + chunk.length > gather.length) await flush();
        if (chunk.length >= gather.length) {
          let offset = 0;
          while (offset < chunk.length) offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
        } else {
          chunk.copy(gather, gathered);
          gathered += chunk.length;
        }
        written += chunk.length;
        context.progress(written);
      }
      await flush();
      finishStage(handle.fd, job);
    } catch (error) {
      throw error instanceof PgkeepError ? error : storageError(error, 'write', job.stagePath);
    } finally {
      await handle.close();
    }
  };
  let copied: { readonly size: number; readonly checksum: string } | undefined;
  try {
    if (whole !== undefined) {
      const plain = cipherPass === undefined ? whole : decryptBuffer(whole, cipherPass, job.repoPath);
      copied = writeWholeSync(job, compressType === 'lz4' ? lz4DecodeWhole(plain, job.repoPath) : plain);
    }
    // One large file streams at a time per worker, small ones (read whole) beside it: with up to
    // three streaming at once a restore peaked at 128 MiB instead of 106 and took 9 % longer.
    else if (viaProgram) copied = await oneStreamAtATime(() => restoreThroughProgram(opened ?? source!, job, context.progress));
    else await oneStreamAtATime(() => runPipeline(source!, decompression(compressType, job.repoPath), sink));
  } catch (caught) {
    await unlink(job.stagePath).catch(() => undefined);
    const error = toPgkeepError(caught);
    // Our own write failed (space, permissions): say so as it is; anything else is the repository file's fault.
    if (error.message.includes(job.stagePath)) throw error;
    throw new PgkeepError(
      error.errorName === 'Unhandled' ? 'FileRead' : error.errorName,
      `unable to restore '${job.name}' from repository file '${job.repoPath}': ${error.message}`,
      {
        hint: 'the repository file is damaged or truncated: restore another backup set, or repair the repository from a copy',
        cause: error,
      },
    );
  } finally {
    await opened?.close();
  }
  const result = copied ?? { size: written, checksum: hash.digest('hex') };
  if (result.size !== job.size || result.checksum !== job.checksum) {
    await unlink(job.stagePath).catch(() => undefined);
    throw new PgkeepError(
      'Checksum',
      `error restoring '${job.name}': repository file '${job.repoPath}' gives ${result.size} bytes with checksum ${result.checksum}, but the backup recorded ${job.size} bytes with checksum ${job.checksum}`,
      { hint: 'the repository file is damaged or truncated: restore another backup set, or repair the repository from a copy' },
    );
  }
  return { kind: 'copy', size: result.size, checksum: result.checksum };
};
