import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout } from 'node:timers/promises';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { decompressFilter } from '../../../../engine/filter/compress.js';
import { lz4FileFrame, type Lz4FileFrameOptions } from '../../../../engine/filter/lz4-file-frame.js';
import { runPipeline } from '../../../../engine/filter/pipeline.js';

const dir = mkdtempSync(join(tmpdir(), 'pgkeep-lz4-file-frame-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KiB = 1024;

/** Compressible bytes with a stretch of noise in the middle (a block stored as it is). */
function mixed(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let at = 0; at + 4 <= size; at += 32) data.writeUInt32LE(at, at);
  if (size >= 96 * KiB) randomBytes(64 * KiB).copy(data, 32 * KiB);
  return data;
}

/** The frame of `data` written to a file, as a sink that is done with each piece before the next (a copy of each). */
async function frameOf(data: Buffer, options: Partial<Lz4FileFrameOptions> = {}): Promise<{ frame: Buffer; observed: Buffer }> {
  const path = join(dir, `file-${data.length}`);
  writeFileSync(path, data);
  const handle = await open(path, 'r');
  const observed: Buffer[] = [];
  const pieces: Buffer[] = [];
  try {
    const frame = lz4FileFrame(handle, {
      path,
      blockSize: 32 * KiB,
      contentChecksum: false,
      observe: (chunk) => observed.push(Buffer.from(chunk)),
      ...options,
    });
    for await (const piece of frame) pieces.push(Buffer.from(piece));
  } finally {
    await handle.close();
  }
  return { frame: Buffer.concat(pieces), observed: Buffer.concat(observed) };
}

async function decode(frame: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await runPipeline(frame, [decompressFilter('lz4')], async (output) => {
    for await (const chunk of output) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

describe('lz4FileFrame', () => {
  it.each([0, 1, 32 * KiB, 64 * KiB, 96 * KiB + 1, 300 * KiB])(
    'makes one frame of the whole file that decodes to it, and shows every byte once (%i bytes)',
    async (size) => {
      const data = mixed(size);
      const { frame, observed } = await frameOf(data);
      expect(observed.equals(data)).toBe(true);
      // magic, FLG 0x60 (independent blocks, no content checksum), BD 0x60; the end mark last
      expect(frame.subarray(0, 6)).toEqual(Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x60]));
      expect(frame.readUInt32LE(frame.length - 4)).toBe(0);
      expect((await decode(frame)).equals(data)).toBe(true);
    },
  );

  it('stores a block of noise as it is, from a read buffer that is then reused', async () => {
    const data = mixed(300 * KiB);
    const { frame } = await frameOf(data);
    // the second block (32-64 KiB) is noise: stored, its size with the high bit set
    const first = frame.readUInt32LE(7);
    const second = 7 + 4 + first;
    expect(frame.readUInt32LE(second)).toBe(((32 * KiB) | 0x80000000) >>> 0);
    expect(frame.subarray(second + 4, second + 4 + 32 * KiB).equals(data.subarray(32 * KiB, 64 * KiB))).toBe(true);
    expect((await decode(frame)).equals(data)).toBe(true);
  });

  it('ends with the content checksum when asked (FLG 0x64), which the decoder checks', async () => {
    const data = mixed(100 * KiB);
    const { frame } = await frameOf(data, { contentChecksum: true });
    expect(frame[4]).toBe(0x64);
    expect((await decode(frame)).equals(data)).toBe(true);
    frame[frame.length - 1] ^= 0xff;
    await expect(decode(frame)).rejects.toThrow(/checksum/);
  });

  it('refuses blocks larger than a frame allows', async () => {
    writeFileSync(join(dir, 'empty'), '');
    const handle = await open(join(dir, 'empty'), 'r');
    try {
      const frame = lz4FileFrame(handle, { path: 'x', blockSize: 2 * 1024 * KiB, contentChecksum: false, observe: () => {} });
      await expect(frame.next()).rejects.toThrow(RangeError);
    } finally {
      await handle.close();
    }
  });

  it('fails a read with a storage error naming the file, and a read ahead nobody waits for goes unseen', async () => {
    let reads = 0;
    // A handle whose second read fails: the first chunk is compressed while that read runs ahead.
    const failing = {
      read: async (buffer: Buffer) => {
        reads++;
        if (reads > 1) throw Object.assign(new Error('I/O error'), { code: 'EIO' });
        buffer.fill(7);
        return { bytesRead: buffer.length, buffer };
      },
    } as unknown as FileHandle;
    const frame = lz4FileFrame(failing, {
      path: '/data/base/1/1234',
      blockSize: 32 * KiB,
      contentChecksum: false,
      observe: () => {},
    });
    const pieces: Buffer[] = [];
    await expect(
      (async () => {
        for await (const piece of frame) pieces.push(piece);
      })(),
    ).rejects.toMatchObject({ errorName: 'FileRead', message: expect.stringContaining("'/data/base/1/1234'") });
    expect(pieces).toHaveLength(1); // the header

    // A sink that stops after the first block leaves the third read running ahead; it fails after
    // the sink has gone, and must not surface as an unhandled rejection (vitest fails the run on one).
    let failed = false;
    const late = {
      read: async (buffer: Buffer, _offset: number, _length: number, position: number) => {
        if (position >= 64 * KiB) {
          await setTimeout(20);
          failed = true;
          throw Object.assign(new Error('I/O error'), { code: 'EIO' });
        }
        buffer.fill(position / KiB);
        return { bytesRead: buffer.length, buffer };
      },
    } as unknown as FileHandle;
    const early = lz4FileFrame(late, { path: '/x', blockSize: 32 * KiB, contentChecksum: false, observe: () => {} });
    await early.next(); // the header
    expect((await early.next()).done).toBe(false); // the first block, the third read under way
    await early.return(undefined);
    await setTimeout(50);
    expect(failed).toBe(true);
  });
});
