import { setImmediate } from 'node:timers/promises';

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

  it('collects young garbage once COLLECT_EVERY bytes have been compressed', async () => {
    const input = Buffer.alloc(COLLECT_EVERY, 1);
    // An object only a WeakRef holds; V8 keeps a WeakRef's target until the current job ends.
    const young = new WeakRef({ garbage: true });
    await setImmediate();
    await compressBlock(input);
    expect(young.deref()).toBeUndefined();
  });
});
