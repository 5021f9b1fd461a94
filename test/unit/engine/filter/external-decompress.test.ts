import { describe, expect, it } from 'vitest';

import { ExternalDecompressFilter, findProgram, zstdDecompressor } from '../../../../engine/filter/external-decompress.js';
import { caught } from './helpers.js';

describe('findProgram', () => {
  it('finds a program on PATH, skipping empty entries and directories without it', () => {
    expect(findProgram('sh', '::/nonexistent:/bin')).toBe('/bin/sh');
    expect(findProgram('sh', '/nonexistent')).toBeUndefined();
    expect(findProgram('sh', '')).toBeUndefined();
  });

  it('checks a path as is', () => {
    expect(findProgram('/bin/sh', '')).toBe('/bin/sh');
    expect(findProgram('/nonexistent/zstd')).toBeUndefined();
    // A directory is not a program.
    expect(findProgram('/tmp')).toBeUndefined();
    expect(findProgram('tmp', '/')).toBeUndefined();
  });

  it('uses PATH by default, and an empty one when PATH is not set', () => {
    const path = process.env['PATH'];
    try {
      process.env['PATH'] = '/bin';
      expect(findProgram('sh')).toBe('/bin/sh');
      delete process.env['PATH'];
      expect(findProgram('sh')).toBeUndefined();
    } finally {
      process.env['PATH'] = path;
    }
  });
});

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
