import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

import { PgkeepError } from '../error/pgkeep-error.js';
import { compressBlock } from './lz4-napi-block.js';
import { compressLevel, type CompressType, type WritableCompressType } from './compress-type.js';
import { bzip2Decompressor, ExternalDecompressFilter, zstdDecompressor } from './external-decompress.js';
import { Filter } from './filter.js';
import { GZIP_OPTIONS, GzCompressFilter, GzDecompressFilter, setGzipOsUnix } from './gz.js';
import { LZ4_CHUNK_SIZE, Lz4CompressFilter } from './lz4-compress.js';
import { LZ4_END_MARK, lz4Block, lz4FrameHeader } from './lz4-frame.js';
import { Lz4DecompressFilter } from './lz4-decompress.js';

/** Passes bytes through unchanged: compress type none. */
export class IdentityFilter extends Filter {
  protected process(chunk: Buffer): void {
    this.push(chunk);
  }
}

/**
 * A filter that compresses to the type's format. Levels are checked against pgBackRest's ranges
 * (gz -1..9, default 6; lz4 -5..12, accepted but not used, see lz4-compress.ts).
 */
export function compressFilter(type: CompressType, level?: number): Filter {
  switch (type) {
    case 'none':
      return new IdentityFilter();
    case 'gz':
      return new GzCompressFilter(compressLevel('gz', level));
    case 'lz4':
      compressLevel('lz4', level);
      return new Lz4CompressFilter();
    default:
      throw new PgkeepError('FeatureNotSupported', `pgkeep cannot write compress type ${type}`, {
        hint: 'set compress-type to lz4, gz or none',
      });
  }
}

const gzipWhole = promisify(gzip);

/**
 * The bytes compressFilter(type, level) would produce for `data` given whole, without a stream:
 * a backup's many small files cost a stream pipeline each otherwise, and its garbage. Both run in
 * the thread pool (lz4-napi's synchronous calls leak native memory: see lz4-compress.ts).
 */
export async function compressWhole(data: Buffer, type: WritableCompressType, level?: number): Promise<Buffer> {
  switch (type) {
    case 'none':
      return data;
    case 'gz':
      return setGzipOsUnix(await gzipWhole(data, { ...GZIP_OPTIONS, level: compressLevel('gz', level) }));
    case 'lz4': {
      compressLevel('lz4', level);
      // The frame Lz4CompressFilter writes: the same blocks, compressed at once.
      const chunks: Buffer[] = [];
      for (let at = 0; at < data.length; at += LZ4_CHUNK_SIZE) chunks.push(data.subarray(at, at + LZ4_CHUNK_SIZE));
      const blocks = await Promise.all(chunks.map(async (chunk) => lz4Block(chunk, await compressBlock(chunk))));
      return Buffer.concat([lz4FrameHeader(false), ...blocks.flat(), LZ4_END_MARK]);
    }
  }
}

/** A filter that decompresses the type's format; `name` (the file) makes error messages say where. */
export function decompressFilter(type: CompressType, name?: string): Filter {
  switch (type) {
    case 'none':
      return new IdentityFilter();
    case 'gz':
      return new GzDecompressFilter(name);
    case 'lz4':
      return new Lz4DecompressFilter(name);
    case 'zst':
      return new ExternalDecompressFilter(zstdDecompressor, name);
    case 'bz2':
      return new ExternalDecompressFilter(bzip2Decompressor, name);
    case 'xz':
      throw new PgkeepError(
        'FeatureNotSupported',
        `xz compressed data cannot be read${name === undefined ? '' : `: '${name}'`}`,
        {
          hint: 'pgBackRest has no xz codec either: this file was not written by pgBackRest or pgkeep',
        },
      );
  }
}
