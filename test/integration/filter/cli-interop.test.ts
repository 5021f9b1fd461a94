import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { isPgkeepError } from '../../../engine/error/pgkeep-error.js';
import { copyFromRepo, copyToRepo } from '../../../engine/filter/pipeline.js';
import type { CompressType } from '../../../engine/filter/compress-type.js';
import { run } from '../../harness/run.js';
import { tempDir } from '../../harness/temp-dir.js';
import { heapPages } from './heap-pages.js';

const sha1 = (data: Uint8Array): string => createHash('sha1').update(data).digest('hex');

/** Decodes a file with our filters, reading it as a stream in fs-sized chunks. */
async function ourDecode(path: string, type: CompressType): Promise<{ size: number; checksum: string }> {
  return copyFromRepo(createReadStream(path), undefined, type, path);
}

async function ourError(path: string, type: CompressType): Promise<Error & { errorName?: string }> {
  try {
    await ourDecode(path, type);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`decoding ${path} did not fail`);
}

describe('interoperability with the lz4, gzip, zstd and bzip2 programs', () => {
  let dir: string;
  /** Inputs: pgbench-like heap pages (compressible) and random bytes, plus an empty file. */
  const inputs: Record<string, Buffer> = {};

  beforeAll(() => {
    dir = tempDir('filter-cli', null);
    inputs['heap'] = heapPages(12 * 1024 * 1024);
    inputs['random'] = randomBytes(5 * 1024 * 1024 + 123);
    inputs['empty'] = Buffer.alloc(0);
    for (const [name, data] of Object.entries(inputs)) writeFileSync(join(dir, name), data);
  });

  it('decodes lz4 CLI frames: linked (as pgBackRest writes), independent, block checksums, big blocks, content size', async () => {
    const variants = [
      ['-1', '-B4', '-BD'],
      ['-BI'],
      ['-BD', '-BX'],
      ['-B7', '-BI'],
      ['-B5', '-BD', '--content-size'],
      ['-9', '-BD'],
      ['--no-frame-crc'],
    ];
    for (const [name, data] of Object.entries(inputs)) {
      for (const [index, options] of variants.entries()) {
        const file = join(dir, `${name}.${index}.lz4`);
        await run('lz4', ['-q', '-f', ...options, join(dir, name), file]);
        if (name === 'heap' && index === 0) expect(readFileSync(file).subarray(4, 6).toString('hex')).toBe('4440');
        expect(await ourDecode(file, 'lz4'), `${name} lz4 ${options.join(' ')}`).toEqual({
          size: data.length,
          checksum: sha1(data),
        });
      }
    }
  });

  it('decodes concatenated lz4 CLI frames as one stream', async () => {
    const parts = [join(dir, 'heap.0.lz4'), join(dir, 'random.1.lz4'), join(dir, 'empty.2.lz4'), join(dir, 'heap.3.lz4')];
    const file = join(dir, 'multi.lz4');
    writeFileSync(file, Buffer.concat(parts.map((part) => readFileSync(part))));
    const expected = Buffer.concat([inputs['heap']!, inputs['random']!, inputs['heap']!]);
    expect(await ourDecode(file, 'lz4')).toEqual({ size: expected.length, checksum: sha1(expected) });
    // lz4 agrees that this is one valid stream.
    await run('lz4', ['-q', '-d', '-f', file, join(dir, 'multi.out')]);
    expect(sha1(readFileSync(join(dir, 'multi.out')))).toBe(sha1(expected));
  });

  it('refuses the legacy lz4 format and truncated lz4 files clearly', async () => {
    const legacy = join(dir, 'legacy.lz4');
    await run('lz4', ['-q', '-f', '-l', join(dir, 'heap'), legacy]);
    const error = await ourError(legacy, 'lz4');
    expect(isPgkeepError(error, 'FeatureNotSupported')).toBe(true);

    const truncated = join(dir, 'truncated.lz4');
    const whole = readFileSync(join(dir, 'heap.0.lz4'));
    writeFileSync(truncated, whole.subarray(0, whole.length - 100));
    expect((await ourError(truncated, 'lz4')).message).toBe(`unexpected end of lz4 data in '${truncated}'`);
  });

  it('writes lz4 and gz that the lz4 and gzip programs read back', async () => {
    for (const [name, data] of Object.entries(inputs)) {
      for (const [type, program] of [
        ['lz4', 'lz4'],
        ['gz', 'gzip'],
      ] as const) {
        const file = join(dir, `ours.${name}.${type}`);
        const result = await copyToRepo(createReadStream(join(dir, name)), createWriteStream(file), { compressType: type });
        const stored = readFileSync(file);
        expect(result).toEqual({ size: data.length, checksum: sha1(data), repoSize: stored.length, repoChecksum: sha1(stored) });
        await run(program, ['-t', file]);
        const out = join(dir, `ours.${name}.${type}.out`);
        await run('sh', ['-c', `${program} -d -c "$1" > "$2"`, 'sh', file, out]);
        expect(sha1(readFileSync(out)), `${program} reads our ${type} of ${name}`).toBe(sha1(data));
        expect(await ourDecode(file, type)).toEqual({ size: data.length, checksum: sha1(data) });
      }
    }
  });

  it('decodes gzip CLI output, with and without a file name in the header', async () => {
    for (const options of [['-n', '-6'], ['-N', '-9'], ['-1']]) {
      const file = join(dir, `cli.${options.join('')}.gz`);
      await run('sh', ['-c', `gzip -c ${options.join(' ')} "$1" > "$2"`, 'sh', join(dir, 'heap'), file]);
      expect(await ourDecode(file, 'gz')).toEqual({ size: inputs['heap']!.length, checksum: sha1(inputs['heap']!) });
    }
  });

  it('refuses two gzip members where gzip reads both (pgBackRest would read only the first)', async () => {
    const file = join(dir, 'two.gz');
    const member = readFileSync(join(dir, 'cli.-n-6.gz'));
    writeFileSync(file, Buffer.concat([member, member]));
    await run('gzip', ['-t', file]);
    expect((await ourError(file, 'gz')).message).toBe(`unexpected data after the end of the gzip stream in '${file}'`);
  });

  it('decodes zstd and bzip2 through their programs, including several zstd frames', async () => {
    for (const [name, data] of Object.entries(inputs)) {
      const zst = join(dir, `${name}.zst`);
      await run('zstd', ['-q', '-f', '-3', join(dir, name), '-o', zst]);
      expect(await ourDecode(zst, 'zst')).toEqual({ size: data.length, checksum: sha1(data) });
      const bz2 = join(dir, `${name}.bz2`);
      await run('sh', ['-c', 'bzip2 -c -9 "$1" > "$2"', 'sh', join(dir, name), bz2]);
      expect(await ourDecode(bz2, 'bz2')).toEqual({ size: data.length, checksum: sha1(data) });
    }
    const multi = join(dir, 'multi.zst');
    writeFileSync(multi, Buffer.concat([readFileSync(join(dir, 'heap.zst')), readFileSync(join(dir, 'random.zst'))]));
    const expected = Buffer.concat([inputs['heap']!, inputs['random']!]);
    expect(await ourDecode(multi, 'zst')).toEqual({ size: expected.length, checksum: sha1(expected) });
  });

  it('reports corrupt zstd data with what zstd said', async () => {
    const whole = readFileSync(join(dir, 'random.zst'));
    const truncated = join(dir, 'truncated.zst');
    writeFileSync(truncated, whole.subarray(0, 100_000));
    const error = await ourError(truncated, 'zst');
    expect(isPgkeepError(error, 'Format')).toBe(true);
    expect(error.message).toMatch(new RegExp(`^unable to decompress zstd data '${truncated}': zstd exited with code 1: .+`));
  });

  it('fails with FeatureNotSupported naming the file and the package when zstd is not installed', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = dir; // a directory without zstd
    try {
      const file = join(dir, 'heap.zst');
      const error = await ourError(file, 'zst');
      expect(isPgkeepError(error, 'FeatureNotSupported')).toBe(true);
      expect(error.message).toBe(`unable to decompress '${file}': zstd data needs the 'zstd' program, which is not installed`);
      expect((error as Error & { hint: string }).hint).toBe('install it (Debian/Ubuntu: apt-get install zstd) and retry');
    } finally {
      process.env['PATH'] = path;
    }
  });
});
