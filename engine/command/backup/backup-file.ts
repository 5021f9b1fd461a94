import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';

import type { JobHandler } from '../../exec/job.js';
import { oneAtATime } from '../../exec/one-at-a-time.js';
import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { encryptBuffer, encryptPieces } from '../../filter/cipher.js';
import type { WritableCompressType } from '../../filter/compress-type.js';
import { compressWhole } from '../../filter/compress.js';
import { lz4FileFrame } from '../../filter/lz4-file-frame.js';
import { LZ4_CHUNK_SIZE } from '../../filter/lz4-compress.js';
import { copyToRepo, runPipeline, type RepoWriteResult } from '../../filter/pipeline.js';
import { PG_PAGE_SIZE } from '../../postgres/version-table.js';
import { PageChecksumValidator, type PageErrorList } from '../../postgres/page-checksum.js';
import { PosixStorage } from '../../storage/posix/posix-storage.js';
import { readSyncAtMost } from '../../storage/posix/read-sync.js';

/** One file of a backup, as the backup command sends it to a worker. */
export interface BackupFileJob {
  /** Absolute path of the file in the data directory or a tablespace. */
  readonly source: string;
  /** Absolute path of the file in the repository. */
  readonly target: string;
  /** Size when the manifest was built (the file may have changed since). */
  readonly size: number;
  readonly compressType: WritableCompressType;
  readonly compressLevel: number;
  /** The backup's passphrase (its manifest's) in an encrypted repository: stored bytes are compressed, then encrypted. */
  readonly cipherPass?: string | undefined;
  /** Validate page checksums: the relation segment number of the file (16385.2 is 2). */
  readonly pageChecksum?: { readonly segmentNo: number } | undefined;
  /** Delta: hash the file first and store nothing if it still has the prior backup's checksum. */
  readonly delta?: { readonly checksum: string; readonly size: number } | undefined;
  /** Resume: the interrupted backup stored this file; keep it if the stored bytes still check out. */
  readonly resume?:
    { readonly checksum: string; readonly size: number; readonly repoChecksum: string; readonly repoSize: number } | undefined;
  /** A missing file is fine (dropped by PostgreSQL during the backup), except global/pg_control. */
  readonly ignoreMissing: boolean;
  /** Read the file in chunks of this size (buffer-size; at least 1 MiB is best for throughput). */
  readonly bufferSize: number;
  /**
   * Not before this time (epoch ms, this machine's clock): the file is dated in the second the
   * manifest was built, and a write later in that same second would keep its timestamp; read
   * once that second is over, the copy holds every such write, and any later one dates the file
   * past the manifest, so the next backup sees it changed. (pgBackRest waits out that second
   * before copying anything; here only the files it concerns wait, the others are copied meanwhile.)
   */
  readonly notBefore?: number | undefined;
}

export type BackupFileResult =
  | {
      readonly status: 'copied';
      readonly size: number;
      readonly checksum: string;
      readonly repoSize: number;
      readonly repoChecksum: string;
      readonly pageChecksum?: { readonly valid: boolean; readonly errorList: PageErrorList | undefined } | undefined;
    }
  /** Resume: the interrupted backup's stored copy is intact and kept. */
  | {
      readonly status: 'resumed';
      readonly size: number;
      readonly checksum: string;
      readonly repoSize: number;
      readonly repoChecksum: string;
    }
  /** Delta: the file matches the prior backup's copy, which the manifest keeps referencing. */
  | { readonly status: 'matched'; readonly size: number; readonly checksum: string }
  /** The file was removed after the manifest was built. */
  | { readonly status: 'missing' };

const storage = new PosixStorage({ basePath: '/' });

/**
 * Copies one file into the repository in one streaming pass: size and SHA-1 of the plain bytes,
 * page checksums of relation files, compression, size and SHA-1 of the stored bytes, atomic
 * write. Memory stays at a few buffers whatever the file size.
 */
export const handler: JobHandler<BackupFileJob, BackupFileResult> = async (job, context) => {
  const highWaterMark = Math.max(job.bufferSize, 1024 * 1024);
  if (job.notBefore !== undefined && job.notBefore > Date.now()) await sleep(job.notBefore - Date.now());
  try {
    if (
      job.resume !== undefined &&
      (await storedCopyIntact(job.target, job.resume.repoSize, job.resume.repoChecksum, highWaterMark))
    ) {
      return { status: 'resumed', ...job.resume };
    }
    if (job.delta !== undefined) {
      const plain = await runPipeline(await read(job.source, highWaterMark), [
        { type: 'size', resultName: 'size' },
        { type: 'sha1', resultName: 'checksum' },
      ]);
      if (plain['size'] === job.delta.size && plain['checksum'] === job.delta.checksum) {
        return { status: 'matched', size: job.delta.size, checksum: job.delta.checksum };
      }
    }

    const validator =
      job.pageChecksum === undefined ? undefined : new PageChecksumValidator({ segmentNo: job.pageChecksum.segmentNo });
    if (job.delta === undefined && job.size <= SMALL_FILE) {
      const small = await copySmallFile(job, validator);
      if (small !== undefined) return small;
    }
    // One large file streams at a time per worker (its buffers are most of a worker's memory); small
    // files, read whole, go on beside it while it waits for the disk.
    const written = await oneStreamAtATime(async () => {
      if (job.compressType === 'lz4') return copyLz4(job, validator, context.progress);
      const source = (await read(job.source, highWaterMark)).pipe(
        new Observe((chunk) => validator?.update(chunk), context.progress),
      );
      // Directories are synced once by the backup command before it records the backup.
      return copyToRepo(source, (data) => storage.write(job.target, data, { mode: 0o640, syncPath: false }), {
        compressType: job.compressType,
        compressLevel: job.compressLevel,
        cipherPass: job.cipherPass,
      });
    });
    let pageChecksum;
    if (validator !== undefined) {
      // A page that fails may be one PostgreSQL was writing: read it again before calling it bad.
      const result = await validator.finish({ rereadPage: (offset) => rereadPage(job.source, offset) });
      pageChecksum = { valid: result.valid, errorList: result.errorList };
    }
    return { status: 'copied', ...written, pageChecksum };
  } catch (caught) {
    const error = toPgkeepError(caught);
    if (job.ignoreMissing && error.errorName === 'FileMissing') return { status: 'missing' };
    throw error;
  }
};

const oneStreamAtATime = oneAtATime();

/** Files up to this size are read whole: most files of a cluster are small, and streams cost per file. */
const SMALL_FILE = 256 * 1024;
/** A small file that grew past this since the manifest was built is streamed instead. */
const GROWN_SMALL_FILE = SMALL_FILE * 4;

/**
 * The same copy as the streaming path, for a small file: one read, the plain checksum computed
 * directly, the file compressed whole (no stream) and written with one call. Undefined when the file
 * grew past the limit since the manifest was built (the streaming path then copies it).
 */
async function copySmallFile(
  job: BackupFileJob,
  validator: PageChecksumValidator | undefined,
): Promise<BackupFileResult | undefined> {
  // Read synchronously: a small file comes from the page cache in less time than a thread-pool round
  // trip. A byte past the limit tells a file that grew, without reading the rest of it.
  const data = readSyncAtMost(job.source, 0, GROWN_SMALL_FILE + 1);
  if (data.length > GROWN_SMALL_FILE) return undefined;
  validator?.update(data);
  const checksum = createHash('sha1').update(data).digest('hex');
  const compressed = await compressWhole(data, job.compressType, job.compressLevel);
  const stored = job.cipherPass === undefined ? compressed : encryptBuffer(compressed, job.cipherPass);
  await storage.write(job.target, stored, { mode: 0o640, syncPath: false });
  const repoChecksum = stored === data ? checksum : createHash('sha1').update(stored).digest('hex');
  let pageChecksum;
  if (validator !== undefined) {
    const result = await validator.finish({ rereadPage: (offset) => rereadPage(job.source, offset) });
    pageChecksum = { valid: result.valid, errorList: result.errorList };
  }
  return { status: 'copied', size: data.length, checksum, repoSize: stored.length, repoChecksum, pageChecksum };
}

/**
 * The streaming copy with lz4, a backup's usual compression: the file as one frame built straight
 * from reused read buffers (lz4FileFrame), measured on the way, with no stream in between.
 */
async function copyLz4(
  job: BackupFileJob,
  validator: PageChecksumValidator | undefined,
  progress: (bytes: number) => void,
): Promise<RepoWriteResult> {
  const handle = await storage.openHandle(job.source);
  const plain = createHash('sha1');
  let size = 0;
  const stored = createHash('sha1');
  let repoSize = 0;
  const observe = (chunk: Buffer) => {
    plain.update(chunk);
    validator?.update(chunk);
    size += chunk.length;
    progress(size);
  };
  async function* measured(pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const piece of pieces) {
      stored.update(piece);
      repoSize += piece.length;
      yield piece;
    }
  }
  try {
    const frame = lz4FileFrame(handle, { path: job.source, blockSize: LZ4_CHUNK_SIZE, contentChecksum: false, observe });
    const stored = job.cipherPass === undefined ? frame : encryptPieces(frame, job.cipherPass);
    // Directories are synced once by the backup command before it records the backup.
    await storage.write(job.target, measured(stored), { mode: 0o640, syncPath: false });
  } finally {
    await handle.close();
  }
  return { size, checksum: plain.digest('hex'), repoSize, repoChecksum: stored.digest('hex') };
}

async function storedCopyIntact(path: string, size: number, checksum: string, highWaterMark: number): Promise<boolean> {
  try {
    const stored = await runPipeline(await read(path, highWaterMark), [
      { type: 'size', resultName: 'size' },
      { type: 'sha1', resultName: 'checksum' },
    ]);
    return stored['size'] === size && stored['checksum'] === checksum;
  } catch {
    return false; // missing or unreadable: copy it again
  }
}

/** The file's bytes, read a chunk ahead of the copy (see FileReadStream). */
async function read(path: string, chunkSize: number): Promise<Readable> {
  return (await new PosixStorage({ basePath: '/', chunkSize }).read(path))!;
}

async function rereadPage(path: string, offset: number): Promise<Uint8Array | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    const page = Buffer.alloc(PG_PAGE_SIZE);
    const { bytesRead } = await handle.read(page, 0, PG_PAGE_SIZE, offset);
    return bytesRead === PG_PAGE_SIZE ? page : undefined;
  } finally {
    await handle.close();
  }
}

/** Passes bytes through, letting page checks and progress see them on the way. */
class Observe extends Transform {
  private done = 0;

  constructor(
    private readonly inspect: (chunk: Buffer) => void,
    private readonly progress: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.inspect(chunk);
    } catch (error) {
      callback(error instanceof PgkeepError ? error : toPgkeepError(error));
      return;
    }
    this.done += chunk.length;
    this.progress(this.done);
    callback(null, chunk);
  }
}
