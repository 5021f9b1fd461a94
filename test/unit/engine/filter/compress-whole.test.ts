import { describe, expect, it } from 'vitest';

import { compressFilter, compressWhole } from '../../../../engine/filter/compress.js';
import type { WritableCompressType } from '../../../../engine/filter/compress-type.js';
import { runPipeline } from '../../../../engine/filter/pipeline.js';
import { caught, sameBytes } from './helpers.js';
import { noise, periodic } from './lz4-fixtures.js';

/** What the streaming filter writes for `data` given in 64 KiB pieces, as a file read gives it. */
async function streamed(data: Buffer, type: WritableCompressType, level?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const pieces = async function* () {
    for (let at = 0; at < data.length; at += 65536) yield data.subarray(at, at + 65536);
  };
  await runPipeline(pieces(), [compressFilter(type, level)], async (output) => {
    for await (const chunk of output) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

describe('compressWhole', () => {
  const inputs: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['1000 bytes', Buffer.from(noise(1000))],
    ['300 KiB', Buffer.from(periodic(300 * 1024))],
    ['one lz4 chunk and a bit (600 KiB)', Buffer.concat([Buffer.from(periodic(400 * 1024)), Buffer.from(noise(200 * 1024))])],
  ];

  for (const type of ['lz4', 'gz', 'none'] as const) {
    it(`writes the very bytes of the streaming ${type} filter`, async () => {
      for (const [name, data] of inputs) {
        const whole = await compressWhole(data, type, type === 'gz' ? 3 : undefined);
        expect(sameBytes(whole, await streamed(data, type, type === 'gz' ? 3 : undefined)), `${type}, ${name}`).toBe(true);
      }
    });
  }

  it('gives back the same buffer for none, and checks levels like compressFilter', async () => {
    const data = Buffer.from('plain');
    expect(await compressWhole(data, 'none')).toBe(data);
    await caught(() => compressWhole(data, 'gz', 10), 'OptionInvalidValue');
    await caught(() => compressWhole(data, 'lz4', 13), 'OptionInvalidValue');
  });
});
