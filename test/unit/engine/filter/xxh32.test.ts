import { describe, expect, it } from 'vitest';

import { Xxh32, xxh32 } from '../../../../engine/filter/xxh32.js';
import { noise } from './lz4-fixtures.js';

describe('xxh32', () => {
  it('matches the reference values (checked against content checksums the lz4 CLI wrote)', () => {
    expect(xxh32(Buffer.alloc(0))).toBe(0x02cc5d05);
    expect(xxh32(Buffer.from('a'))).toBe(0x550d7456);
    expect(xxh32(Buffer.from('abc'))).toBe(0x32d153ff);
    expect(xxh32(Buffer.from('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });

  it('uses the seed', () => {
    expect(xxh32(Buffer.alloc(0), 1)).not.toBe(xxh32(Buffer.alloc(0), 0));
    expect(xxh32(noise(100), 7)).toBe(new Xxh32(7).update(noise(100)).digest());
  });

  it('gives the same digest however the data is split, aligned or not', () => {
    const data = noise(200_000);
    const whole = xxh32(data);
    for (const piece of [1, 3, 15, 16, 17, 4096, 65_537]) {
      const hash = new Xxh32();
      for (let at = 0; at < data.length; at += piece) hash.update(data.subarray(at, at + piece));
      expect(hash.digest()).toBe(whole);
    }
    // Misaligned views of the same bytes (read through the aligned scratch copy).
    const shifted = Buffer.alloc(data.length + 3);
    data.copy(shifted, 3);
    expect(xxh32(shifted.subarray(3))).toBe(whole);
    expect(xxh32(shifted, 0, 3, shifted.length)).toBe(whole);
  });

  it('hashes ranges and lengths around the 16-byte stripe', () => {
    const data = noise(64);
    for (let length = 0; length <= 40; length++) {
      const hash = new Xxh32();
      for (let at = 0; at < length; at++) hash.update(data, at, at + 1);
      expect(hash.digest()).toBe(xxh32(data.subarray(0, length)));
    }
  });
});
