import { describe, expect, it } from 'vitest';

import { decodeBlock } from '../../../../engine/filter/lz4-block.js';

/** Decodes a hand-made block into a fresh buffer; returns the bytes or -1. */
function decode(block: number[], options: { limit?: number; history?: number[] } = {}): Buffer | -1 {
  const history = options.history ?? [];
  const dst = Buffer.alloc(history.length + (options.limit ?? 1000));
  dst.set(history, 0);
  const end = decodeBlock(Uint8Array.from(block), 0, block.length, dst, history.length, dst.length, 0);
  return end < 0 ? -1 : dst.subarray(history.length, end);
}

const bytes = (text: string): number[] => [...Buffer.from(text)];

describe('decodeBlock', () => {
  it('decodes a literals-only block', () => {
    expect(decode([0x50, ...bytes('hello')])).toEqual(Buffer.from('hello'));
  });

  it('decodes short and long, overlapping and not, matches', () => {
    // "abc" then a match of 30 at offset 3 (overlapping, doubling), then 1 literal.
    expect(decode([0x3f, ...bytes('abc'), 3, 0, 11, 0x10, ...bytes('!')])).toEqual(Buffer.from(`${'abc'.repeat(11)}!`));
    // offset 1: a run.
    expect(decode([0x1f, ...bytes('z'), 1, 0, 40, 0x10, ...bytes('.')])).toEqual(Buffer.from(`${'z'.repeat(60)}.`));
    // short overlapping match: "ab" + 6 at offset 2.
    expect(decode([0x22, ...bytes('ab'), 2, 0, 0x10, ...bytes('.')])).toEqual(Buffer.from('abababab.'));
    // long non-overlapping match: 40 literals, then the same 40 again.
    const forty = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD';
    expect(decode([0xff, 25, ...bytes(forty), 40, 0, 21, 0x10, ...bytes('.')])).toEqual(Buffer.from(`${forty}${forty}.`));
  });

  it('reads length extensions of 255 and more', () => {
    const literals = Buffer.alloc(15 + 255 + 3, 0x61);
    expect(decode([0xf0, 255, 3, ...literals], { limit: 400 })).toEqual(literals);
    // match length 4 + 15 + 255 + 1 = 275 at offset 1
    expect(decode([0x1f, 0x61, 1, 0, 255, 1, 0x00], { limit: 400 })).toEqual(Buffer.alloc(276, 0x61));
  });

  it('refers back into the window of earlier blocks', () => {
    expect(decode([0x0f, 5, 0, 1, 0x10, ...bytes('.')], { history: bytes('hello') })).toEqual(
      Buffer.from(`${'hello'.repeat(4)}.`),
    );
  });

  it('rejects malformed blocks', () => {
    expect(decode([])).toBe(-1); // no token
    expect(decode([0xf0])).toBe(-1); // literal length extension missing
    expect(decode([0xf0, 255])).toBe(-1); // literal length extension cut
    expect(decode([0x50, 0x61])).toBe(-1); // literals cut
    expect(decode([0x50, ...bytes('hello')], { limit: 4 })).toBe(-1); // literals past the limit
    expect(decode([0x10, 0x61, 1])).toBe(-1); // offset cut
    expect(decode([0x10, 0x61, 0, 0, 0x00])).toBe(-1); // offset 0
    expect(decode([0x10, 0x61, 2, 0, 0x00])).toBe(-1); // offset before the window
    expect(decode([0x1f, 0x61, 1, 0])).toBe(-1); // match length extension missing
    expect(decode([0x1f, 0x61, 1, 0, 255])).toBe(-1); // match length extension cut
    expect(decode([0x1f, 0x61, 1, 0, 100], { limit: 50 })).toBe(-1); // match past the limit
    expect(decode([0x10, 0x61, 1, 0])).toBe(-1); // a block may not end with a match
  });
});
