import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';

import { uncompressSync } from 'lz4-napi';
import { describe, expect, it } from 'vitest';

import { compressFilter, compressWhole, decompressFilter, IdentityFilter } from '../../../../engine/filter/compress.js';
import { createFilter } from '../../../../engine/filter/filter-spec.js';
import { Filter } from '../../../../engine/filter/filter.js';
import { LZ4_CHUNK_SIZE } from '../../../../engine/filter/lz4-compress.js';
import { copyFromRepo, copyToRepo, repoReadFilters, repoWriteFilters, runPipeline } from '../../../../engine/filter/pipeline.js';
import { Sha1Filter } from '../../../../engine/filter/sha1.js';
import { SizeFilter } from '../../../../engine/filter/size.js';
import { caught, lz4Decode, sameBytes } from './helpers.js';
import { noise, periodic } from './lz4-fixtures.js';

const sha1 = (data: Uint8Array): string => createHash('sha1').update(data).digest('hex');
const EMPTY_SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';

/** A sink that keeps what it gets. */
function collector(): { sink: (data: AsyncIterable<Buffer>) => Promise<void>; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  return {
    sink: async (data) => {
      for await (const chunk of data) chunks.push(chunk);
    },
    bytes: () => Buffer.concat(chunks),
  };
}

/** What the streaming lz4 filter makes of data, fed in pieces of 64 KiB. */
async function streamed(data: Buffer): Promise<Buffer> {
  const out = collector();
  await runPipeline(Readable.from(pieces(data, 65_536)), [compressFilter('lz4', 1)], out.sink);
  return out.bytes();
}

async function* pieces(data: Buffer, piece: number): AsyncIterable<Buffer> {
  for (let at = 0; at < data.length; at += piece) yield data.subarray(at, at + piece);
}

describe('runPipeline', () => {
  it('measures size and SHA-1 and passes bytes through unchanged', async () => {
    const data = noise(100_000);
    const out = collector();
    const results = await runPipeline(Readable.from(pieces(data, 4096)), [new SizeFilter(), new Sha1Filter()], out.sink);
    expect(results).toEqual({ size: 100_000, sha1: sha1(data) });
    expect(sameBytes(out.bytes(), data)).toBe(true);
  });

  it('takes specs, one buffer as source, a Writable or no sink', async () => {
    const data = Buffer.from('hello');
    let written = '';
    const writable = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.toString();
        callback();
      },
    });
    const specs = [
      { type: 'size', resultName: 'bytes' },
      { type: 'sha1', resultName: 'hash' },
    ] as const;
    expect(await runPipeline(data, specs, writable)).toEqual({ bytes: 5, hash: sha1(data) });
    expect(written).toBe('hello');
    expect(await runPipeline(data, specs)).toEqual({ bytes: 5, hash: sha1(data) });
    expect(await runPipeline(Buffer.alloc(0), specs)).toEqual({ bytes: 0, hash: EMPTY_SHA1 });
  });

  it('refuses two results under one name, and releases the filters built', async () => {
    const error = await caught(() => runPipeline(Buffer.from('x'), [new SizeFilter('a'), new Sha1Filter('a')]), 'Assert');
    expect(error.message).toBe("two filters report a result named 'a'");
  });

  it('turns errors thrown by filters into PgkeepErrors and ends the pipeline', async () => {
    class Broken extends Filter {
      protected process(): void {
        throw new Error('Boom');
      }
    }
    class BrokenAsync extends Filter {
      protected process(): Promise<void> {
        return Promise.reject(new Error('Later'));
      }
    }
    expect((await caught(() => runPipeline(Buffer.from('x'), [new Broken()]), 'Unhandled')).message).toBe('boom');
    expect((await caught(() => runPipeline(Buffer.from('x'), [new BrokenAsync()]), 'Unhandled')).message).toBe('later');
    await caught(() => runPipeline(Buffer.from('not lz4 data'), [decompressFilter('lz4')]), 'Format');
  });

  it('passes bytes through unchanged for compress type none', async () => {
    const data = noise(70_000);
    const out = collector();
    await runPipeline(data, [compressFilter('none'), decompressFilter('none')], out.sink);
    expect(sameBytes(out.bytes(), data)).toBe(true);
  });

  it('is all exported from the filter index', async () => {
    const index = await import('../../../../engine/filter/index.js');
    expect(index.runPipeline).toBe(runPipeline);
    expect(Object.keys(index).sort()).toEqual(
      [
        'Filter',
        'SizeFilter',
        'Sha1Filter',
        'createFilter',
        'compressFilter',
        'decompressFilter',
        'IdentityFilter',
        'compressExtension',
        'compressLevel',
        'compressLevels',
        'compressTypeFromExtension',
        'compressTypes',
        'isCompressType',
        'isWritableCompressType',
        'stripCompressExtension',
        'copyFromRepo',
        'copyToRepo',
        'repoReadFilters',
        'repoWriteFilters',
        'runPipeline',
        'Lz4FrameDecoder',
        'Xxh32',
        'xxh32',
      ].sort(),
    );
  });

  it('reports a filter result only once the stream ended', () => {
    expect(new Sha1Filter().result()).toBeUndefined();
    expect(new SizeFilter().result()).toBe(0);
    expect(new IdentityFilter().result()).toBeUndefined();
  });
});

describe('lz4 compression', () => {
  it('round-trips many sizes, output readable by lz4-napi frame by frame', async () => {
    const sizes = [0, 1, 65_535, 65_536, 65_537, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1, 9 * 1024 * 1024 + 5];
    for (const size of sizes) {
      const data = Buffer.concat([periodic(size >> 1), noise(size - (size >> 1))]);
      const out = collector();
      // Feed sizes that hit the copy path and the no-copy path of the chunker.
      const piece = size > 5_000_000 ? 3 * LZ4_CHUNK_SIZE + 3 : 65_536;
      const result = await copyToRepo(Readable.from(pieces(data, piece)), out.sink, { compressType: 'lz4' });
      const stored = out.bytes();
      expect(result).toEqual({ size, checksum: sha1(data), repoSize: stored.length, repoChecksum: sha1(stored) });
      // FLG 0x60 (independent blocks, no content checksum), BD of 64 KiB to 4 MiB blocks
      expect(stored.subarray(0, 6).toString('hex')).toMatch(/^04224d1860[4-7]0$/);
      expect(sameBytes(lz4Decode(stored, 65_536), data)).toBe(true);
      const back = collector();
      expect(await copyFromRepo(stored, back.sink, 'lz4', 'x.lz4')).toEqual({ size, checksum: sha1(data) });
      expect(sameBytes(back.bytes(), data)).toBe(true);
    }
  });

  it('writes one frame of independent blocks, one per LZ4_CHUNK_SIZE (512 KiB), stored when they would not shrink', async () => {
    expect(LZ4_CHUNK_SIZE).toBe(512 * 1024);
    // A compressible chunk, a chunk of noise (stored), and a short compressible tail.
    const data = Buffer.concat([periodic(LZ4_CHUNK_SIZE), noise(LZ4_CHUNK_SIZE, 3), periodic(1000)]);
    for (const stored of [await streamed(data), await compressWhole(data, 'lz4')]) {
      // Magic; FLG 0x60: version 01, independent blocks, no content checksum; BD 0x60: blocks of at most 1 MiB.
      expect(stored.subarray(0, 6).toString('hex')).toBe('04224d186060');
      let at = 7;
      const blocks: { size: number; raw: boolean }[] = [];
      for (;;) {
        const field = stored.readUInt32LE(at);
        at += 4;
        if (field === 0) break;
        blocks.push({ size: field & 0x7fffffff, raw: field >= 0x80000000 });
        at += field & 0x7fffffff;
      }
      expect(at).toBe(stored.length);
      expect(blocks.map((block) => block.raw)).toEqual([false, true, false]);
      expect(blocks[1]!.size).toBe(LZ4_CHUNK_SIZE);
      // The compressed blocks are lz4-napi's raw blocks, as its block decoder reads them.
      const first = stored.subarray(11, 11 + blocks[0]!.size);
      const sized = Buffer.concat([Buffer.from([0, 0, 8, 0]), first]);
      expect(sameBytes(uncompressSync(sized), data.subarray(0, LZ4_CHUNK_SIZE))).toBe(true);
      expect(sameBytes(lz4Decode(stored), data)).toBe(true);
    }
  });

  it('rejects levels out of range and compress types it cannot write', async () => {
    await caught(() => compressFilter('lz4', 13), 'OptionInvalidValue');
    const zst = await caught(() => compressFilter('zst'), 'FeatureNotSupported');
    expect(zst.message).toBe('pgkeep cannot write compress type zst');
    await caught(() => createFilter({ type: 'compress', compressType: 'bz2' }), 'FeatureNotSupported');
    const xz = await caught(() => decompressFilter('xz', 'f.xz'), 'FeatureNotSupported');
    expect(xz.message).toBe("xz compressed data cannot be read: 'f.xz'");
    expect((await caught(() => decompressFilter('xz'), 'FeatureNotSupported')).message).toBe('xz compressed data cannot be read');
  });
});

describe('copyToRepo and copyFromRepo', () => {
  it('measure plain and stored bytes for every writable type', async () => {
    const data = Buffer.concat([periodic(500_000), noise(10_000)]);
    for (const compressType of ['none', 'gz', 'lz4'] as const) {
      const out = collector();
      const result = await copyToRepo(data, out.sink, { compressType, ...(compressType === 'gz' ? { compressLevel: 9 } : {}) });
      const stored = out.bytes();
      expect(result).toEqual({ size: data.length, checksum: sha1(data), repoSize: stored.length, repoChecksum: sha1(stored) });
      if (compressType === 'none') expect(sameBytes(stored, data)).toBe(true);
      else expect(stored.length).toBeLessThan(data.length / 10);
      expect(await copyFromRepo(stored, undefined, compressType)).toEqual({ size: data.length, checksum: sha1(data) });
    }
  });

  it('store empty files as a valid empty stream', async () => {
    for (const compressType of ['none', 'gz', 'lz4'] as const) {
      const out = collector();
      const result = await copyToRepo(Buffer.alloc(0), out.sink, { compressType });
      expect(result.size).toBe(0);
      expect(result.checksum).toBe(EMPTY_SHA1);
      expect(result.repoSize).toBe(compressType === 'none' ? 0 : out.bytes().length);
      expect(await copyFromRepo(out.bytes(), undefined, compressType)).toEqual({ size: 0, checksum: EMPTY_SHA1 });
    }
  });

  it('describe their filters as specs for worker processes', () => {
    expect(repoWriteFilters({ compressType: 'lz4', compressLevel: 1 })).toEqual([
      { type: 'size', resultName: 'size' },
      { type: 'sha1', resultName: 'checksum' },
      { type: 'compress', compressType: 'lz4', level: 1 },
      { type: 'size', resultName: 'repoSize' },
      { type: 'sha1', resultName: 'repoChecksum' },
    ]);
    expect(repoWriteFilters({ compressType: 'gz' })[2]).toEqual({ type: 'compress', compressType: 'gz' });
    expect(repoWriteFilters({ compressType: 'none' })).toHaveLength(2);
    expect(repoReadFilters('gz', 'a.gz')[0]).toEqual({ type: 'decompress', compressType: 'gz', file: 'a.gz' });
    expect(repoReadFilters('lz4')[0]).toEqual({ type: 'decompress', compressType: 'lz4' });
    expect(repoReadFilters('none')).toHaveLength(2);
    // Specs are plain JSON: they survive a trip through a worker message.
    const specs = repoWriteFilters({ compressType: 'lz4' });
    expect(JSON.parse(JSON.stringify(specs))).toEqual(specs);
  });
});
