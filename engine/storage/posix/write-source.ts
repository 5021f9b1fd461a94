import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

import { isPgkeepError, PgkeepError } from '../../error/pgkeep-error.js';
import { storageError } from './storage-error.js';

export type WriteSource = Readable | AsyncIterable<Uint8Array> | Uint8Array;

/** Chunks smaller than this are gathered in one buffer so that small chunks do not cost a write each. */
const GATHER_SIZE = 256 * 1024;

/**
 * Writes every byte of `source` at the handle's position, pulling one chunk at a time: the source
 * produces the next chunk only after the last one is written, so memory stays flat whatever the
 * size. Small chunks are copied into a gather buffer (a producer may reuse its buffer once it is
 * asked for the next chunk, so they cannot just be kept); large ones are written as they are.
 *
 * Returns the number of bytes written. A failing source fails the write with its own error (a
 * PgkeepError as is, anything else as FileWrite naming `path`).
 */
export async function writeSource(handle: FileHandle, source: WriteSource, path: string): Promise<number> {
  if (source instanceof Uint8Array) {
    await writeAll(handle, source, path);
    return source.byteLength;
  }
  let gather: Buffer | undefined;
  let gathered = 0;
  let total = 0;
  const iterator = (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array | string>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw sourceError(error, path);
    }
    if (next.done === true) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    total += chunk.byteLength;
    try {
      if (chunk.byteLength >= GATHER_SIZE) {
        if (gathered > 0) await writeAll(handle, gather!.subarray(0, gathered), path);
        gathered = 0;
        await writeAll(handle, chunk, path);
      } else if (chunk.byteLength > 0) {
        if (gathered + chunk.byteLength > GATHER_SIZE) {
          await writeAll(handle, gather!.subarray(0, gathered), path);
          gathered = 0;
        }
        gather ??= Buffer.allocUnsafe(GATHER_SIZE);
        gather.set(chunk, gathered);
        gathered += chunk.byteLength;
      }
    } catch (error) {
      // Stop the producer: a Readable is destroyed, a generator finishes.
      await iterator.return?.().catch(() => undefined);
      throw error;
    }
  }
  if (gathered > 0) await writeAll(handle, gather!.subarray(0, gathered), path);
  return total;
}

/** write() may write less than asked (a signal, a full disk that frees up): write until done. */
async function writeAll(handle: FileHandle, data: Uint8Array, path: string): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) {
    try {
      const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset, null);
      offset += bytesWritten;
    } catch (error) {
      throw storageError(error, 'write', path);
    }
  }
}

function sourceError(error: unknown, path: string): PgkeepError {
  if (isPgkeepError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new PgkeepError('FileWrite', `unable to write '${path}': the source failed: ${reason}`, { cause: error });
}
