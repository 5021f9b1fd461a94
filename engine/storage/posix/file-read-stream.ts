import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

import { storageError } from './storage-error.js';

/**
 * A file's bytes from `position`, at most `limit` of them, in chunks of at most `chunkSize`.
 *
 * Unlike fs.createReadStream it fails with a PgkeepError that names the file, sizes its buffers
 * by what is left of the file (small files do not pin large buffers), and ends on a short read at
 * the size the file had when opened instead of paying one more read to see end of file. A file
 * that grows while it is read is read on to its new end, as pgBackRest does.
 */
export class FileReadStream extends Readable {
  private position: number;
  private remaining: number;

  constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    private readonly sizeAtOpen: number,
    start: number,
    limit: number,
    private readonly chunkSize: number,
  ) {
    super({ highWaterMark: chunkSize });
    this.position = start;
    this.remaining = limit;
  }

  override _read(): void {
    const expected = this.sizeAtOpen - this.position;
    // Past the size at open, read a modest chunk in case the file grew.
    const size = Math.min(this.chunkSize, this.remaining, expected > 0 ? expected : MIN_CHUNK);
    if (size <= 0) {
      this.push(null);
      return;
    }
    const buffer = Buffer.allocUnsafe(size);
    this.handle.read(buffer, 0, size, this.position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          this.push(null);
          return;
        }
        this.position += bytesRead;
        this.remaining -= bytesRead;
        this.push(bytesRead === size ? buffer : buffer.subarray(0, bytesRead));
        // A short read at or past the size at open is the end of the file.
        if (bytesRead < size && this.position >= this.sizeAtOpen) this.push(null);
      },
      (error: unknown) => this.destroy(storageError(error, 'read', this.path)),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.handle.close().then(
      () => callback(error),
      (closeError: unknown) => callback(error ?? storageError(closeError, 'close', this.path)),
    );
  }
}

const MIN_CHUNK = 64 * 1024;
