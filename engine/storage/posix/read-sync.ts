import { closeSync, openSync, readSync } from 'node:fs';

import { storageError } from './storage-error.js';

/**
 * At most `limit` bytes of a file from `offset`, read with synchronous calls: a small file comes
 * from the page cache in microseconds, less than a round trip through the thread pool. Never more
 * than `limit` is held, however large the file has grown.
 */
export function readSyncAtMost(path: string, offset: number, limit: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw storageError(error, 'openRead', path);
  }
  try {
    const buffer = Buffer.allocUnsafe(limit);
    let done = 0;
    for (let read = -1; read !== 0 && done < limit; done += read) read = readSync(fd, buffer, done, limit - done, offset + done);
    return buffer.subarray(0, done);
  } catch (error) {
    throw storageError(error, 'read', path);
  } finally {
    closeSync(fd);
  }
}
