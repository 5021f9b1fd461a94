import { describe, expect, it } from 'vitest';

import {
  compressExtension,
  compressLevel,
  compressTypeFromExtension,
  compressTypes,
  isCompressType,
  isWritableCompressType,
  stripCompressExtension,
} from '../../../../engine/filter/compress-type.js';
import { isPgkeepError } from '../../../../engine/error/pgkeep-error.js';

describe('compress types', () => {
  it('maps types to extensions and back', () => {
    expect(compressTypes.map(compressExtension)).toEqual(['', '.gz', '.lz4', '.zst', '.bz2', '.xz']);
    for (const type of compressTypes) expect(compressTypeFromExtension(`base/1/1234${compressExtension(type)}`)).toBe(type);
    expect(compressTypeFromExtension('000000010000000000000001-0123456789abcdef0123456789abcdef01234567')).toBe('none');
    expect(compressTypeFromExtension('archive.info')).toBe('none');
    expect(compressTypeFromExtension('backup.gzip')).toBe('none');
    expect(isCompressType('lz4')).toBe(true);
    expect(isCompressType('lz5')).toBe(false);
  });

  it('strips the compression extension', () => {
    expect(stripCompressExtension('pg_data/PG_VERSION.lz4')).toBe('pg_data/PG_VERSION');
    expect(stripCompressExtension('pg_data/PG_VERSION.gz')).toBe('pg_data/PG_VERSION');
    expect(stripCompressExtension('pg_data/PG_VERSION')).toBe('pg_data/PG_VERSION');
  });

  it('knows which types pgkeep writes', () => {
    expect(compressTypes.filter(isWritableCompressType)).toEqual(['none', 'gz', 'lz4']);
  });

  it('checks levels against pgBackRest ranges and gives its defaults', () => {
    expect(compressLevel('gz', undefined)).toBe(6);
    expect(compressLevel('lz4', undefined)).toBe(1);
    expect(compressLevel('gz', 9)).toBe(9);
    expect(compressLevel('gz', -1)).toBe(-1);
    expect(compressLevel('lz4', -5)).toBe(-5);
    for (const [type, level] of [
      ['gz', 10],
      ['gz', -2],
      ['lz4', 13],
      ['lz4', 1.5],
      ['none', 1],
    ] as const) {
      let caught: unknown;
      try {
        compressLevel(type, level);
      } catch (error) {
        caught = error;
      }
      expect(isPgkeepError(caught, 'OptionInvalidValue')).toBe(true);
      expect((caught as Error).message).toBe(`compress level ${level} is not valid for compress type ${type}`);
    }
  });
});
