import { gunzipSync, gzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { compressFilter, decompressFilter } from '../../../../engine/filter/compress.js';
import { runPipeline } from '../../../../engine/filter/pipeline.js';
import { caught, sameBytes } from './helpers.js';
import { noise, periodic } from './lz4-fixtures.js';

/** Runs input (fed in pieces) through one filter and returns the output. */
async function through(filter: ReturnType<typeof compressFilter>, input: Buffer, piece = 65_536): Promise<Buffer> {
  const chunks: Buffer[] = [];
  async function* pieces(): AsyncIterable<Buffer> {
    for (let at = 0; at < input.length; at += piece) yield input.subarray(at, at + piece);
  }
  await runPipeline(pieces(), [filter], async (data) => {
    for await (const chunk of data) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

const gunzip = (input: Buffer, piece?: number): Promise<Buffer> =>
  through(decompressFilter('gz', 'pg_data/PG_VERSION.gz'), input, piece);

describe('gz compression', () => {
  it('writes one gzip member with pgBackRest header: mtime 0, XFL by level, OS 3', async () => {
    const data = Buffer.concat([periodic(300_000), noise(100_000)]);
    const level6 = await through(compressFilter('gz'), data);
    expect(level6.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000003');
    expect(sameBytes(gunzipSync(level6), data)).toBe(true);
    const level9 = await through(compressFilter('gz', 9), data);
    expect(level9.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000203');
    const level1 = await through(compressFilter('gz', 1), data);
    expect(level1.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000403');
  });

  it('writes a valid member for empty input', async () => {
    const empty = await through(compressFilter('gz'), Buffer.alloc(0));
    expect(empty.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000003');
    expect(gunzipSync(empty)).toEqual(Buffer.alloc(0));
  });

  it('rejects a level out of range', async () => {
    await caught(() => compressFilter('gz', 10), 'OptionInvalidValue');
  });
});

describe('gz decompression', () => {
  const data = Buffer.concat([periodic(200_000), noise(50_000)]);
  const member = gzipSync(data);

  it('decodes one member fed in any pieces', async () => {
    const small = gzipSync(noise(500));
    for (const piece of [1, 9, 10, 11]) expect(sameBytes(await gunzip(small, piece), noise(500))).toBe(true);
    for (const piece of [4096, member.length]) expect(sameBytes(await gunzip(member, piece), data)).toBe(true);
    expect(await gunzip(gzipSync(Buffer.alloc(0)))).toEqual(Buffer.alloc(0));
  });

  it('decodes a member whose trailer comes in a chunk of its own', async () => {
    const chunks: Buffer[] = [];
    await runPipeline(
      (async function* () {
        yield member.subarray(0, member.length - 8);
        await new Promise((resolve) => setTimeout(resolve, 10));
        yield member.subarray(member.length - 8);
      })(),
      [decompressFilter('gz')],
      async (output) => {
        for await (const chunk of output) chunks.push(chunk);
      },
    );
    expect(sameBytes(Buffer.concat(chunks), data)).toBe(true);
  });

  it('decodes highly compressed data with bounded output bursts', async () => {
    const zeros = Buffer.alloc(20 * 1024 * 1024);
    const output = await gunzip(gzipSync(zeros, { level: 9 }));
    expect(output.length).toBe(zeros.length);
  });

  it('accepts the optional header fields: extra, name, comment, header CRC', async () => {
    const plain = gzipSync(Buffer.from('hello'));
    const fields = Buffer.concat([
      Buffer.from([3, 0, 1, 2, 3]),
      Buffer.from('file.txt\0'),
      Buffer.from('a comment\0'),
      Buffer.from([0xaa, 0xbb]),
    ]);
    const header = Buffer.from(plain.subarray(0, 10));
    header[3] = 0x04 | 0x08 | 0x10 | 0x02;
    const withFields = Buffer.concat([header, fields, plain.subarray(10)]);
    for (const piece of [1, 3, 100]) expect((await gunzip(withFields, piece)).toString()).toBe('hello');
  });

  it('fails on data after the member, as a second member or anything else', async () => {
    for (const tail of [member, Buffer.from('x'), Buffer.alloc(1)]) {
      for (const piece of [1000, 65_536, 1 << 30]) {
        const error = await caught(() => gunzip(Buffer.concat([member, tail]), piece), 'Format');
        expect(error.message).toBe("unexpected data after the end of the gzip stream in 'pg_data/PG_VERSION.gz'");
        expect(error.hint).toMatch(/exactly one gzip member/);
      }
    }
  });

  it('fails on truncated input at every position', async () => {
    const small = gzipSync(noise(300));
    for (let length = 0; length < small.length; length++) {
      const error = await caught(() => gunzip(small.subarray(0, length), 100), 'Format');
      expect(error.message).toBe("unexpected end of gzip data in 'pg_data/PG_VERSION.gz'");
    }
  });

  it('fails on corrupt data with a clear error', async () => {
    const notGzip = await caught(() => gunzip(Buffer.from('this is not gzip at all')), 'Format');
    expect(notGzip.message).toBe("not gzip data (bad magic) in 'pg_data/PG_VERSION.gz'");

    const method = Buffer.from(member);
    method[2] = 7;
    expect((await caught(() => gunzip(method), 'Format')).message).toMatch(/^unsupported gzip compression method 7/);

    const reserved = Buffer.from(member);
    reserved[3] = 0x20;
    expect((await caught(() => gunzip(reserved), 'Format')).message).toMatch(/^reserved flags are set in the gzip header/);

    const badDeflate = Buffer.from(member);
    badDeflate[10] = 0xff; // block type 3: invalid
    expect((await caught(() => gunzip(badDeflate), 'Format')).message).toMatch(/^gzip data is corrupt: invalid block type/);

    const badCrc = Buffer.from(member);
    badCrc[badCrc.length - 8]! ^= 1;
    expect((await caught(() => gunzip(badCrc), 'Checksum')).message).toBe(
      "gzip CRC or length mismatch in 'pg_data/PG_VERSION.gz'",
    );

    const badLength = Buffer.from(member);
    badLength[badLength.length - 1]! ^= 1;
    await caught(() => gunzip(badLength), 'Checksum');

    const unnamed = await caught(() => through(decompressFilter('gz'), Buffer.from('plain text, not gzip')), 'Format');
    expect(unnamed.message).toBe('not gzip data (bad magic)');

    const longName = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3]), Buffer.alloc(80_000, 0x61)]);
    expect((await caught(() => gunzip(longName, 1000), 'Format')).message).toMatch(/^gzip header is too long/);
  });
});
