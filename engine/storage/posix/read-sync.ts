import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { storageError } from './storage-error.js';

/**
 * At most `limit` bytes of a file from `offset`, read with synchronous calls: a small file comes
 * from the page cache in microseconds, less than a round trip through the thread pool. Never more
 * than `limit` is read, however large the file has grown.
 */
export function readSyncAtMost(path: string, offset: number, limit: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw storageError(error, 'openRead', path);
  }
  try {
    // Sized from the file, with one byte more so that a file that grew shows: a limit far above the
    // usual size would otherwise allocate (and keep alive) that much for every small file. The size
    // is only where reading starts: a file that has grown past it since is read on, to the limit.
    let buffer = Buffer.allocUnsafe(Math.min(limit, Math.max(fstatSync(fd).size - offset, 0) + 1));
    let done = 0;
    for (let read = -1; read !== 0 && done < limit; done += read) {
      if (done === buffer.length) buffer = Buffer.concat([buffer], limit);
      read = readSync(fd, buffer, done, buffer.length - done, offset + done);
    }
    return buffer.subarray(0, done);
  } catch (error) {
    throw storageError(error, 'read', path);
  } finally {
    closeSync(fd);
  }
}
