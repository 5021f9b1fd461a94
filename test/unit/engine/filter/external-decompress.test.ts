import { describe, expect, it } from 'vitest';

import { ExternalDecompressFilter, zstdDecompressor } from '../../../../engine/filter/external-decompress.js';
import { caught } from './helpers.js';

describe('ExternalDecompressFilter', () => {
  it('fails with FeatureNotSupported naming the file and the package when the program is missing', async () => {
    const missing = { ...zstdDecompressor, program: 'pgkeep-no-such-zstd' };
    const named = await caught(
      () => new ExternalDecompressFilter(missing, 'archive/demo/15-1/000000010000000000000001-abc.zst'),
      'FeatureNotSupported',
    );
    expect(named.message).toBe(
      "unable to decompress 'archive/demo/15-1/000000010000000000000001-abc.zst': zstd data needs the 'pgkeep-no-such-zstd' program, which is not installed",
    );
    expect(named.hint).toBe('install it (Debian/Ubuntu: apt-get install zstd) and retry');
    const unnamed = await caught(() => new ExternalDecompressFilter(missing), 'FeatureNotSupported');
    expect(unnamed.message).toBe(
      "unable to decompress: zstd data needs the 'pgkeep-no-such-zstd' program, which is not installed",
    );
  });
});
