import { describe, expect, it } from 'vitest';

import { javascriptChecksumKernel, pageChecksum } from '../../../../engine/postgres/page-checksum.js';
import { SIMD_BATCH_PAGES, simdChecksumKernel } from '../../../../engine/postgres/page-checksum-simd.js';
import { pg15Page17Base64 } from './fixtures.js';

const PAGE = 8192;

/** `count` pages of xorshift32 words. */
function randomPages(count: number, seed: number): Uint8Array {
  const pages = new Uint8Array(count * PAGE);
  const words = new Uint32Array(pages.buffer);
  let x = seed >>> 0 || 1;
  for (let index = 0; index < words.length; index++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[index] = x >>> 0;
  }
  return pages;
}

function blockChecksums(kernel: ReturnType<typeof simdChecksumKernel>, pages: Uint8Array): number[] {
  kernel.pages.set(pages);
  const count = pages.length / PAGE;
  kernel.checksumBlocks(count);
  return Array.from(kernel.results.subarray(0, count));
}

describe('WebAssembly SIMD page checksum kernel', () => {
  it('computes the same block checksums as the JavaScript block function, for a full batch', () => {
    const pages = randomPages(SIMD_BATCH_PAGES, 7);
    const simd = blockChecksums(simdChecksumKernel(), pages);
    expect(simd).toEqual(blockChecksums(javascriptChecksumKernel(), pages));
    expect(new Set(simd).size).toBe(SIMD_BATCH_PAGES);
  });

  it('gives the checksum PostgreSQL stored in a real page once the block number is mixed in', () => {
    const page = Buffer.from(pg15Page17Base64, 'base64');
    const [block] = blockChecksums(simdChecksumKernel(), page);
    expect((((block! ^ 17) >>> 0) % 65535) + 1).toBe(18813);
    expect(pageChecksum(page, 17)).toBe(18813);
  });

  it('counts pd_checksum as zero whatever it holds', () => {
    const pages = randomPages(3, 99);
    const before = blockChecksums(simdChecksumKernel(), pages);
    const changed = Buffer.from(pages);
    for (let page = 0; page < 3; page++) changed.writeUInt16LE(0xbeef + page, page * PAGE + 8);
    expect(blockChecksums(simdChecksumKernel(), changed)).toEqual(before);
    // ...while any other byte of the header changes it.
    changed[12] = changed[12]! ^ 1;
    expect(blockChecksums(simdChecksumKernel(), changed)[0]).not.toBe(before[0]);
  });

  it('leaves results past count alone and does nothing for count 0', () => {
    const kernel = simdChecksumKernel();
    kernel.results.fill(0xdeadbeef);
    kernel.checksumBlocks(0);
    expect(kernel.results[0]).toBe(0xdeadbeef);
    blockChecksums(kernel, randomPages(2, 3));
    expect(kernel.results[2]).toBe(0xdeadbeef);
  });

  it('is one kernel per process', () => {
    expect(simdChecksumKernel()).toBe(simdChecksumKernel());
    expect(javascriptChecksumKernel()).toBe(javascriptChecksumKernel());
  });
});
