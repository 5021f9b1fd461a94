import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { compressFilter, compressWhole, decompressFilter } from '../../../engine/filter/compress.js';
import { runPipeline } from '../../../engine/filter/pipeline.js';
import { Sha1Filter } from '../../../engine/filter/sha1.js';
import { SizeFilter } from '../../../engine/filter/size.js';
import { heapStream } from './heap-pages.js';

const GiB = 1024 * 1024 * 1024;
const MB = 1024 * 1024;

/** Runs work while sampling the process's resident memory; returns the peak growth over the start. */
async function rssGrowth(work: () => Promise<void>): Promise<number> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss()) - start;
}

describe('memory stays flat whatever the size', () => {
  for (const [type, size] of [
    ['lz4', GiB],
    ['gz', GiB],
  ] as const) {
    it(`streams ${size / MB} MiB through ${type} compress and decompress with less than 100 MB of growth`, async () => {
      // The expected digest, computed from the same generated stream.
      const expected = createHash('sha1');
      for await (const chunk of heapStream(size)) expected.update(chunk);
      const digest = expected.digest('hex');

      let results: Record<string, number | string> = {};
      const growth = await rssGrowth(async () => {
        results = await runPipeline(heapStream(size), [
          new SizeFilter('plainSize'),
          compressFilter(type, type === 'gz' ? 1 : undefined),
          new SizeFilter('storedSize'),
          decompressFilter(type),
          new SizeFilter('size'),
          new Sha1Filter('checksum'),
        ]);
      });
      expect(results['plainSize']).toBe(size);
      expect(results['size']).toBe(size);
      expect(results['checksum']).toBe(digest);
      expect(results['storedSize'] as number).toBeLessThan(size / 5);
      expect(growth, `rss grew by ${(growth / MB).toFixed(0)} MB`).toBeLessThan(100 * MB);
    });
  }
});

describe('memory of many small files compressed whole', () => {
  it('does not grow with the number of files (lz4-napi leaks in its synchronous calls)', async () => {
    // 2000 files of 256 KiB that compress poorly (their frames are large): compressFrameSync would keep about 0.9 GB.
    const file = Buffer.alloc(256 * 1024);
    for (let at = 0; at < file.length; at += 4) file.writeUInt32LE(Math.imul(at, 2654435761) >>> 0, at);
    const growth = await rssGrowth(async () => {
      for (let count = 0; count < 2000; count++) await compressWhole(file, 'lz4');
    });
    expect(growth, `rss grew by ${(growth / MB).toFixed(0)} MB`).toBeLessThan(300 * MB);
  });
});
