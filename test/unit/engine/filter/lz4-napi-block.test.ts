import { randomBytes } from 'node:crypto';

import { uncompress } from 'lz4-napi';
import { describe, expect, it } from 'vitest';

import { COLLECT_EVERY, compressBlock } from '../../../../engine/filter/lz4-napi-block.js';

describe('compressBlock', () => {
  it('compresses as lz4-napi does (a raw block behind its 4-byte plain size)', async () => {
    const data = Buffer.from('pgkeep '.repeat(1000));
    const block = await compressBlock(data);
    expect(block.readUInt32LE(0)).toBe(data.length);
    expect((await uncompress(block)).equals(data)).toBe(true);
  });

  it('frees the buffers of dead blocks as it goes, a minor collection every COLLECT_EVERY bytes', async () => {
    // Incompressible blocks: each output is as large as its input. 64 blocks are 4 times
    // COLLECT_EVERY; without the collections all 64 dead outputs (32 MiB of external memory) stay.
    const input = randomBytes(512 * 1024);
    const before = process.memoryUsage().external;
    for (let block = 0; block < 64; block++) await compressBlock(input);
    const grown = process.memoryUsage().external - before;
    expect(grown).toBeLessThan(COLLECT_EVERY * 2);
  });
});
