import { PgkeepError } from '../error/pgkeep-error.js';
import { compressLevel, type CompressType } from './compress-type.js';
import { bzip2Decompressor, ExternalDecompressFilter, zstdDecompressor } from './external-decompress.js';
import { Filter } from './filter.js';
import { GzCompressFilter, GzDecompressFilter } from './gz.js';
import { Lz4CompressFilter } from './lz4-compress.js';
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
