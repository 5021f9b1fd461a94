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
 *
 * It reads one chunk ahead: the next read runs in the thread pool while the consumer works on the
 * chunk just read. A stream's consumer (hashing, compressing) runs inside push(), so a stream that
 * started its next read only when asked would leave this thread idle during every read (a third of
 * a backup worker's time, measured).
 */
export class FileReadStream extends Readable {
  private position: number;
  private remaining: number;
  /** The read running ahead, if any: null at the end of the file. */
  private ahead: Promise<Buffer | null> | undefined;
  private ended = false;

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
    const current = this.ahead ?? this.readChunk();
    this.ahead = undefined;
    current.then(
      (chunk) => {
        if (chunk === null) {
          this.push(null);
          return;
        }
        if (!this.ended) {
          this.ahead = this.readChunk();
          // Handled now (an unhandled rejection ends the process); the next _read sees the error.
          this.ahead.catch(() => undefined);
        }
        this.push(chunk);
        if (this.ended) this.push(null);
      },
      (error: unknown) => this.destroy(storageError(error, 'read', this.path)),
    );
  }

  /** The next chunk (null at the end); `ended` is set once a chunk is known to be the last. */
  private async readChunk(): Promise<Buffer | null> {
    const expected = this.sizeAtOpen - this.position;
    // Past the size at open, read a modest chunk in case the file grew.
    const size = Math.min(this.chunkSize, this.remaining, expected > 0 ? expected : MIN_CHUNK);
    if (size <= 0) return null;
    const buffer = Buffer.allocUnsafe(size);
    const { bytesRead } = await this.handle.read(buffer, 0, size, this.position);
    if (bytesRead === 0) return null;
    this.position += bytesRead;
    this.remaining -= bytesRead;
    // A short read at or past the size at open is the end of the file; so is the end of the limit.
    if ((bytesRead < size && this.position >= this.sizeAtOpen) || this.remaining <= 0) this.ended = true;
    return bytesRead === size ? buffer : buffer.subarray(0, bytesRead);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A read running ahead must finish before its file is closed.
    const ahead = this.ahead?.catch(() => null) ?? Promise.resolve(null);
    this.ahead = undefined;
    ahead
      .then(() => this.handle.close())
      .then(
        () => callback(error),
        (closeError: unknown) => callback(error ?? storageError(closeError, 'close', this.path)),
      );
  }
}

const MIN_CHUNK = 64 * 1024;
