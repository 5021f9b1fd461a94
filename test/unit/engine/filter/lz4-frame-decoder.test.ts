import { compressFrameSync } from 'lz4-napi';
import { describe, expect, it } from 'vitest';

import { xxh32 } from '../../../../engine/filter/xxh32.js';
import { caught, lz4Decode, sameBytes } from './helpers.js';
import { checkedFrameHex, linkedFrameHex, noise, pgbackrestEmptyHex, periodic, storedFrameHex } from './lz4-fixtures.js';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');
const linked = hex(linkedFrameHex);
const checked = hex(checkedFrameHex);
const stored = hex(storedFrameHex);

/** A frame header: magic, FLG, BD, optional fields, and a correct header checksum. */
function frameHeader(flg: number, bd: number, fields: number[] = []): Buffer {
  const descriptor = Buffer.from([flg, bd, ...fields]);
  return Buffer.concat([hex('04224d18'), descriptor, Buffer.from([(xxh32(descriptor) >>> 8) & 0xff])]);
}

function u32(value: number): Buffer {
  const data = Buffer.alloc(4);
  data.writeUInt32LE(value >>> 0);
  return data;
}

/** A skippable frame of `size` bytes. */
function skippable(size: number, magicLow = 0): Buffer {
  return Buffer.concat([u32(0x184d2a50 + magicLow), u32(size), Buffer.alloc(size, 0xee)]);
}

describe('Lz4FrameDecoder', () => {
  it('decodes pgBackRest-style frames (linked 64 KiB blocks, content checksum) fed in any pieces', () => {
    expect(linked.subarray(4, 6)).toEqual(Buffer.from([0x44, 0x40]));
    const expected = periodic(150_000);
    for (const piece of [1, 2, 3, 7, 100, 4096, linked.length]) expect(sameBytes(lz4Decode(linked, piece), expected)).toBe(true);
  });

  it('really uses the history of linked blocks', () => {
    // The same frame declared with independent blocks (FLG 0x64) must fail: block 2 refers to block 1.
    const independent = Buffer.concat([frameHeader(0x64, 0x40), linked.subarray(7)]);
    expect(() => lz4Decode(independent)).toThrow(/corrupt lz4 block/);
  });

  it('decodes independent blocks with block checksums and a content size', () => {
    expect(checked[4]).toBe(0x7c);
    for (const piece of [1, 5, 999, checked.length]) expect(sameBytes(lz4Decode(checked, piece), periodic(150_000))).toBe(true);
  });

  it('decodes stored (uncompressed) blocks', () => {
    expect(stored[10]! & 0x80).toBe(0x80);
    expect(lz4Decode(stored, 13)).toEqual(noise(300));
  });

  it('decodes the empty frames of pgBackRest and lz4-napi', () => {
    expect(lz4Decode(hex(pgbackrestEmptyHex))).toEqual(Buffer.alloc(0));
    expect(lz4Decode(compressFrameSync(Buffer.alloc(0)))).toEqual(Buffer.alloc(0));
  });

  it('decodes lz4-napi frames without a content checksum', () => {
    const data = noise(70_000);
    const frame = compressFrameSync(Buffer.concat([data, data]));
    expect(frame[4]! & 0x04).toBe(0);
    expect(sameBytes(lz4Decode(frame, 1000), Buffer.concat([data, data]))).toBe(true);
  });

  it('decodes concatenated frames and skips skippable frames', () => {
    const input = Buffer.concat([skippable(0), linked, skippable(10, 15), stored, checked, skippable(3)]);
    const expected = Buffer.concat([periodic(150_000), noise(300), periodic(150_000)]);
    for (const piece of [1, 9, input.length]) expect(sameBytes(lz4Decode(input, piece), expected)).toBe(true);
  });

  it('decodes 4 MiB blocks split across small input chunks', () => {
    const data = Buffer.concat([noise(5 * 1024 * 1024), periodic(1024 * 1024)]);
    const frame = compressFrameSync(data, { contentChecksum: true });
    expect(frame[5]).toBe(0x70);
    expect(sameBytes(lz4Decode(frame, 65_536), data)).toBe(true);
  });

  it('fails on truncated input at every position', async () => {
    for (let length = 0; length < checked.length; length++) {
      const error = await caught(() => lz4Decode(checked.subarray(0, length), 64, 'pg_data/base/1/1234.lz4'), 'Format');
      expect(error.message).toBe("unexpected end of lz4 data in 'pg_data/base/1/1234.lz4'");
      expect(error.hint).toMatch(/truncated/);
    }
    // Also inside a skippable frame.
    await caught(() => lz4Decode(Buffer.concat([linked, skippable(10).subarray(0, 12)])), 'Format');
  });

  it('fails on a bad magic number, at the start or after a frame', async () => {
    expect((await caught(() => lz4Decode(Buffer.from('plain text')), 'Format')).message).toBe('bad lz4 magic number 0x69616c70');
    const error = await caught(() => lz4Decode(Buffer.concat([stored, Buffer.alloc(4)]), undefined, 'f.lz4'), 'Format');
    expect(error.message).toBe("bad lz4 magic number 0x00000000 after the end of an lz4 frame in 'f.lz4'");
  });

  it('verifies the content checksum, block checksums and header checksum', async () => {
    const badContent = Buffer.from(linked);
    badContent[badContent.length - 1]! ^= 1;
    const content = await caught(() => lz4Decode(badContent, undefined, 'f.lz4'), 'Checksum');
    expect(content.message).toMatch(/^lz4 content checksum mismatch in 'f.lz4': expected [0-9a-f]{8}, got [0-9a-f]{8}$/);

    const badBlock = Buffer.from(checked);
    badBlock[30]! ^= 1;
    expect((await caught(() => lz4Decode(badBlock), 'Checksum')).message).toMatch(/^lz4 block checksum mismatch: expected/);

    const badHeader = Buffer.from(linked);
    badHeader[6]! ^= 1;
    expect((await caught(() => lz4Decode(badHeader), 'Checksum')).message).toBe('lz4 frame header checksum mismatch');
  });

  it('checks the content size', async () => {
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(150_001n);
    const frame = Buffer.concat([frameHeader(0x7c, 0x40, [...size]), checked.subarray(15)]);
    expect((await caught(() => lz4Decode(frame), 'Format')).message).toBe(
      'lz4 frame holds 150000 bytes but its header says 150001',
    );
  });

  it('refuses what the format does not allow or pgkeep does not support', async () => {
    const end = Buffer.concat([u32(0)]);
    const cases: [Buffer, string][] = [
      [Buffer.concat([frameHeader(0x04, 0x40), end]), 'unsupported lz4 frame version 0'],
      [Buffer.concat([frameHeader(0x46, 0x40), end]), 'reserved bits are set in an lz4 frame descriptor'],
      [Buffer.concat([frameHeader(0x44, 0xc0), end]), 'reserved bits are set in an lz4 frame descriptor'],
      [Buffer.concat([frameHeader(0x40, 0x30), end]), 'invalid lz4 block maximum size id 3'],
      [
        Buffer.concat([frameHeader(0x40, 0x40), u32(65_537), Buffer.alloc(65_537)]),
        "lz4 block of 65537 bytes exceeds the frame's maximum of 65536",
      ],
      [Buffer.concat([frameHeader(0x60, 0x40), u32(4), Buffer.from([0x10, 0x61, 0, 0]), end]), 'corrupt lz4 block'],
    ];
    for (const [input, message] of cases) expect((await caught(() => lz4Decode(input), 'Format')).message).toBe(message);
    const dictionary = await caught(() => lz4Decode(frameHeader(0x61, 0x40, [1, 2, 3, 4])), 'FeatureNotSupported');
    expect(dictionary.message).toBe('lz4 frames with a dictionary id are not supported');
    const legacy = await caught(
      () => lz4Decode(Buffer.concat([u32(0x184c2102), u32(0)]), undefined, 'x.lz4'),
      'FeatureNotSupported',
    );
    expect(legacy.message).toBe("legacy lz4 format (lz4 -l) is not supported in 'x.lz4'");
  });

  it('never changes bytes it has handed out', () => {
    // lz4Decode keeps the emitted chunks as given; many small pieces make many emits and buffer switches.
    const data = Buffer.concat([periodic(3 * 1024 * 1024), noise(1024 * 1024)]);
    const frame = compressFrameSync(data, { contentChecksum: true });
    expect(sameBytes(lz4Decode(frame, 1000), data)).toBe(true);
    const eight = Buffer.concat(Array.from({ length: 8 }, () => linked));
    expect(sameBytes(lz4Decode(eight, 333), Buffer.concat(Array.from({ length: 8 }, () => periodic(150_000))))).toBe(true);
  });
});
