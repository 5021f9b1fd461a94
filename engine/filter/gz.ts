import { once } from 'node:events';
import { crc32, createGzip, createInflateRaw, type Gzip, type InflateRaw } from 'node:zlib';

import { PgkeepError } from '../error/pgkeep-error.js';
import { Filter } from './filter.js';

/**
 * gzip, as pgBackRest writes and reads it (repo-format.md 4.1): exactly one gzip member per file,
 * written like zlib's deflateInit2(level, Z_DEFLATED, 15 + 16, memLevel 9): no name, mtime 0,
 * OS 3 (Unix). Node's zlib writes that header except the OS byte, which is the platform's (3 on
 * Linux and macOS, 10 on Windows): we set it to 3 so files are the same from every platform.
 */
const GZIP_OS_BYTE = 9;
const GZIP_OS_UNIX = 3;
/** zlib's settings for pgBackRest's gzip, less the level. */
export const GZIP_OPTIONS = { memLevel: 9, windowBits: 15 } as const;

/** Sets the OS byte of a whole gzip member to Unix (see above); returns it. */
export function setGzipOsUnix(member: Buffer): Buffer {
  member[GZIP_OS_BYTE] = GZIP_OS_UNIX;
  return member;
}

export class GzCompressFilter extends Filter {
  private readonly zlib: Gzip;
  private written = 0;

  constructor(level: number) {
    super();
    this.zlib = createGzip({ ...GZIP_OPTIONS, level });
    this.zlib.on('data', (data: Buffer) => {
      if (this.written <= GZIP_OS_BYTE && this.written + data.length > GZIP_OS_BYTE)
        data[GZIP_OS_BYTE - this.written] = GZIP_OS_UNIX;
      this.written += data.length;
      this.push(data);
    });
  }

  protected process(chunk: Buffer): Promise<void> {
    return writeTo(this.zlib, chunk);
  }

  protected override async finish(): Promise<void> {
    this.zlib.end();
    await once(this.zlib, 'end');
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.zlib.destroy();
    callback(error);
  }
}

/**
 * Writes a chunk to a zlib stream; resolves once zlib has processed it. A zlib error destroys the
 * stream without calling the write's callback, so the error event settles it too.
 */
function writeTo(zlib: Gzip | InflateRaw, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void => reject(error);
    zlib.once('error', failed);
    zlib.write(chunk, (error) => {
      zlib.off('error', failed);
      /* v8 ignore next -- zlib reports its errors through the error event, never here first */
      if (error) reject(error);
      else resolve();
    });
  });
}

const enum GzState {
  Header,
  Body,
  Trailer,
  Done,
}

const FTEXT_FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;
/** A gzip header longer than this (names, extra fields) is refused rather than buffered. */
const HEADER_MAX = 64 * 1024 + 4096;
/** Input is fed to zlib in pieces of this size: zlib writes out all a piece decodes to at once, so this bounds memory (x1032 at most). */
const INFLATE_PIECE = 16 * 1024;

/**
 * gzip decompression that accepts exactly one member, like pgBackRest 2.45's reader, and fails
 * clearly where pgBackRest would silently stop at the first member (and then fail on a checksum):
 * on data after the member, and on truncated input. The header and trailer are parsed here; the
 * deflate data goes through zlib's raw inflate, whose bytesWritten tells where the member's
 * deflate data ended. The trailer's CRC-32 and length are checked.
 */
export class GzDecompressFilter extends Filter {
  private state = GzState.Header;
  private header: Buffer = Buffer.alloc(0);
  private readonly trailer = Buffer.alloc(8);
  private trailerLength = 0;
  private readonly zlib: InflateRaw;
  private readonly inflateEnd: Promise<void>;
  private crc = 0;
  private size = 0;

  /** @param name the file being read, for error messages */
  constructor(private readonly name?: string) {
    super();
    this.zlib = createInflateRaw({ windowBits: 15 });
    this.zlib.on('data', (data: Buffer) => {
      this.crc = crc32(data, this.crc);
      this.size += data.length;
      this.push(data);
    });
    // A zlib error rejects once(): the write callbacks report it, this promise must not.
    this.inflateEnd = once(this.zlib, 'end').then(
      () => undefined,
      () => undefined,
    );
    // Errors reach us through the write callbacks.
    this.zlib.on('error', () => {});
  }

  protected async process(chunk: Buffer): Promise<void> {
    let data = chunk;
    if (this.state === GzState.Header) {
      this.header = this.header.length === 0 ? chunk : Buffer.concat([this.header, chunk]);
      const length = this.parseHeader(this.header);
      if (length < 0) {
        if (this.header.length > HEADER_MAX) throw this.error('gzip header is too long');
        return;
      }
      data = this.header.subarray(length);
      this.header = Buffer.alloc(0);
      this.state = GzState.Body;
    }
    for (let at = 0; at < data.length && this.state === GzState.Body; at += INFLATE_PIECE) {
      const piece = data.subarray(at, at + INFLATE_PIECE);
      const consumed = await this.inflate(piece);
      if (consumed < piece.length) {
        this.state = GzState.Trailer;
        data = data.subarray(at + consumed);
        break;
      }
    }
    // After the deflate data: the trailer, then nothing (takeTrailer throws on anything more).
    if (this.state === GzState.Trailer || this.state === GzState.Done) this.takeTrailer(data);
  }

  protected override async finish(): Promise<void> {
    if (this.state !== GzState.Done) {
      this.zlib.destroy();
      throw this.error('unexpected end of gzip data', 'the file is truncated: restore it from another copy or backup');
    }
    await this.inflateEnd;
    const crc = this.trailer.readUInt32LE(0);
    const size = this.trailer.readUInt32LE(4);
    if (crc !== this.crc >>> 0 || size !== this.size % 2 ** 32) {
      throw new PgkeepError('Checksum', `gzip CRC or length mismatch${this.where()}`, {
        hint: 'the file is corrupt: restore it from another copy or backup',
      });
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.zlib.destroy();
    callback(error);
  }

  /** Feeds a piece to zlib; returns how many of its bytes belonged to the deflate data. */
  private async inflate(piece: Buffer): Promise<number> {
    // Once zlib has seen the end of the deflate data it consumes nothing more, so bytesWritten says
    // where that end was, also when it fell exactly at the end of an earlier piece.
    const before = this.zlib.bytesWritten;
    try {
      await writeTo(this.zlib, piece);
    } catch (error) {
      throw this.error(`gzip data is corrupt: ${(error as Error).message}`, undefined, error);
    }
    return this.zlib.bytesWritten - before;
  }

  private takeTrailer(data: Buffer): void {
    const take = Math.min(8 - this.trailerLength, data.length);
    data.copy(this.trailer, this.trailerLength, 0, take);
    this.trailerLength += take;
    if (this.trailerLength === 8) this.state = GzState.Done;
    if (take < data.length) {
      throw this.error(
        'unexpected data after the end of the gzip stream',
        'a pgBackRest repository file holds exactly one gzip member: the file is corrupt or was not written by pgBackRest or pgkeep',
      );
    }
  }

  /** Length of the gzip header at the start of data, or -1 when more data is needed. */
  private parseHeader(data: Buffer): number {
    if (data.length < 10) return -1;
    if (data[0] !== 0x1f || data[1] !== 0x8b)
      throw this.error('not gzip data (bad magic)', 'the file is not gzip compressed or is corrupt');
    if (data[2] !== 8) throw this.error(`unsupported gzip compression method ${data[2]}`);
    const flags = data[3]!;
    if ((flags & FRESERVED) !== 0) throw this.error('reserved flags are set in the gzip header');
    let at = 10;
    if ((flags & FEXTRA) !== 0) {
      if (data.length < at + 2) return -1;
      at += 2 + data.readUInt16LE(at);
    }
    for (const flag of [FNAME, FCOMMENT]) {
      if ((flags & flag) !== 0) {
        const zero = data.indexOf(0, at);
        if (zero < 0) return -1;
        at = zero + 1;
      }
    }
    if ((flags & FTEXT_FHCRC) !== 0) at += 2;
    return data.length < at ? -1 : at;
  }

  private where(): string {
    return this.name === undefined ? '' : ` in '${this.name}'`;
  }

  private error(message: string, hint?: string, cause?: unknown): PgkeepError {
    return new PgkeepError('Format', `${message}${this.where()}`, {
      hint: hint ?? 'the file is corrupt: restore it from another copy or backup',
      cause,
    });
  }
}
