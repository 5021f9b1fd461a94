import { describe, expect, it } from 'vitest';

import { crc32c, crc32cUpdate } from '../../../../engine/postgres/crc32c.js';

describe('crc32c', () => {
  it('gives the standard CRC-32C check value for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('gives known values for empty input, zeroes and 0xFF bytes (RFC 3720 B.4)', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, index) => index))).toBe(0x46dd794e);
  });

  it('covers a range, and continues across calls with the same result as one pass', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, index) => (index * 7 + 3) & 0xff);
    const whole = crc32c(data);
    for (const split of [0, 1, 7, 8, 9, 500, 999, 1000]) {
      expect(crc32cUpdate(crc32c(data, 0, split), data, split)).toBe(whole);
    }
    expect(crc32c(data, 10, 20)).toBe(crc32c(data.subarray(10, 20)));
  });
});
