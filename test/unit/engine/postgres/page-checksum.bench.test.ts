import { describe, expect, it } from 'vitest';

import { pageChecksum, pageChecksumSet, PageChecksumValidator } from '../../../../engine/postgres/page-checksum.js';

const PAGE = 8192;
const MiB = 1024 * 1024;

/**
 * Throughput of the page checksum on one core, printed so a run shows the figure. The assertion
 * is a floor far below the measured speed (about 3 GB/s for the validator on this project's
 * machines) so a busy shared machine does not fail it; it still catches an accidental 10x
 * slowdown such as an allocation per page.
 */
describe('page checksum speed', () => {
  // 64 MiB of valid pages with varied content, checksums set for blocks 0..8191.
  const data = new Uint8Array(64 * MiB);
  let x = 0x9e3779b9;
  const words = new Uint32Array(data.buffer);
  for (let index = 0; index < words.length; index++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[index] = x >>> 0;
  }
  for (let block = 0; block < data.length / PAGE; block++) {
    const page = data.subarray(block * PAGE, (block + 1) * PAGE);
    page[14] = 0x10;
    pageChecksumSet(page, block);
  }

  function best(runs: number, action: () => void): number {
    let fastest = Infinity;
    for (let run = 0; run < runs; run++) {
      const start = process.hrtime.bigint();
      action();
      fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1e9);
    }
    return data.length / fastest / 1e6;
  }

  it('validates a relation file at well over 300 MB/s (1 MiB chunks)', async () => {
    let result;
    const mbPerSecond = best(5, () => {
      const validator = new PageChecksumValidator();
      for (let offset = 0; offset < data.length; offset += MiB) validator.update(data.subarray(offset, offset + MiB));
      result = validator.finish();
    });
    expect((await result!).valid).toBe(true);
    console.log(`PageChecksumValidator: ${mbPerSecond.toFixed(0)} MB/s`);
    expect(mbPerSecond).toBeGreaterThan(300);
  });

  it('computes pageChecksum at well over 300 MB/s', () => {
    let sum = 0;
    const mbPerSecond = best(5, () => {
      for (let block = 0; block < data.length / PAGE; block++)
        sum ^= pageChecksum(data.subarray(block * PAGE, (block + 1) * PAGE), block);
    });
    console.log(`pageChecksum: ${mbPerSecond.toFixed(0)} MB/s`);
    expect(sum).toBeGreaterThanOrEqual(0);
    expect(mbPerSecond).toBeGreaterThan(300);
  });
});
