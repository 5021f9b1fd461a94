import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { decryptBuffer } from '../../filter/cipher.js';
import { Lz4FrameDecoder } from '../../filter/lz4-frame-decoder.js';
import { parseWalHeader, WAL_HEADER_READ_SIZE } from '../../postgres/wal.js';
import type { VerifyFileJob, VerifyFileResult } from './verify-file.js';

/**
 * Stored files up to this size are read with one call and measured in memory. Most files of a
 * backup are small (a cluster has thousands of catalog files of a few KB), and for them setting up
 * a stream pipeline costs ten times the hashing: measured on a pgbench backup, 0.6 ms per file
 * through streams against 0.13 ms in memory. The memory is bounded by this size.
 */
export const SMALL_FILE_SIZE = 1024 * 1024;

/** Whether a job can take the in-memory path: small and in a format decoded here (lz4, none). */
export function isSmallJob(job: VerifyFileJob): boolean {
  return job.size <= SMALL_FILE_SIZE && (job.compressType === 'none' || job.compressType === 'lz4');
}

/**
 * Reads the announced size plus one byte of the file at the job's offset (so a file larger than
 * announced shows itself); undefined when it is missing. Directly from the file system: workers
 * read posix repositories (as the streaming path does through PosixStorage).
 */
export async function readSmallFile(job: VerifyFileJob): Promise<Buffer | undefined> {
  const limit = Math.min(job.limit ?? Infinity, job.size + 1);
  let handle;
  try {
    handle = await open(job.path, 'r');
  } catch (error) {
    // Missing, or a parent is not a directory: the file is not there (as PosixStorage's read says)
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw toPgkeepError(error);
  }
  try {
    if ((await handle.stat()).isDirectory())
      throw new PgkeepError('FileOpen', `unable to open '${job.path}' for read: it is a directory`);
    const buffer = Buffer.allocUnsafe(limit);
    let filled = 0;
    while (filled < limit) {
      const { bytesRead } = await handle.read(buffer, filled, limit - filled, (job.offset ?? 0) + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** The same measurements as the streaming path, of bytes in memory. */
export function measureSmallFile(job: VerifyFileJob, data: Buffer): VerifyFileResult {
  const repoSize = data.length;
  const repoChecksum = createHash('sha1').update(data).digest('hex');
  if (!job.content) return { status: 'read', repoSize, repoChecksum };
  let plain = data;
  if (job.cipherPass !== undefined) {
    try {
      plain = decryptBuffer(data, job.cipherPass, job.path);
    } catch (error) {
      return { status: 'failed', error: toPgkeepError(error).message, repoSize, repoChecksum };
    }
  }
  let size = plain.length;
  let checksum = plain === data ? repoChecksum : createHash('sha1').update(plain).digest('hex');
  let head = plain.subarray(0, WAL_HEADER_READ_SIZE);
  if (job.compressType === 'lz4') {
    const hash = createHash('sha1');
    const heads: Buffer[] = [];
    size = 0;
    try {
      const decoder = new Lz4FrameDecoder(job.path);
      decoder.decode(plain, (chunk) => {
        if (size < WAL_HEADER_READ_SIZE) heads.push(chunk.subarray(0, WAL_HEADER_READ_SIZE - size));
        size += chunk.length;
        hash.update(chunk);
      });
      decoder.finish();
    } catch (error) {
      return { status: 'failed', error: toPgkeepError(error).message, repoSize, repoChecksum };
    }
    checksum = hash.digest('hex');
    head = Buffer.concat(heads);
  }
  return { status: 'read', repoSize, repoChecksum, size, checksum, ...(job.walHeader === true ? walSegmentSize(head) : {}) };
}

/** The segment size a WAL segment's first bytes announce, when they are a valid long header. */
export function walSegmentSize(head: Buffer): { segmentSize?: number } {
  try {
    return { segmentSize: parseWalHeader(head).segmentSize };
  } catch {
    return {};
  }
}
