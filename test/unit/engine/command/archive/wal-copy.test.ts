import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { copyWal } from '../../../../../engine/command/archive-push/wal-copy.js';
import { decompressFilter } from '../../../../../engine/filter/compress.js';
import { runPipeline } from '../../../../../engine/filter/pipeline.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-wal-copy-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1024 * 1024;

async function decode(stored: Buffer): Promise<Buffer> {
  let plain: Buffer = Buffer.alloc(0);
  await runPipeline(stored, [decompressFilter('lz4')], async (source) => {
    plain = await collect(source);
  });
  return plain;
}

async function collect(data: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of data) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Compressible data like WAL: repeated records with a counter. */
function walLike(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let at = 0; at + 16 <= size; at += 64) data.writeUInt32LE(at, at);
  randomBytes(Math.min(size, 4096)).copy(data, Math.floor(size / 2));
  return data;
}

describe('copyWal', () => {
  it.each([0, 1000, MiB, MiB + MiB / 2, 2 * MiB, 2 * MiB + 1])(
    'with lz4 writes one LZ4 frame of 1 MiB blocks that decodes to the file, and the SHA-1 of the plain bytes (%i bytes)',
    async (size) => {
      const data = walLike(size);
      const path = join(dir, 'segment');
      writeFileSync(path, data);
      let stored: Buffer = Buffer.alloc(0);
      const { sha1 } = await copyWal(path, 'lz4', 1, async (source) => {
        stored = await collect(source);
      });
      expect(sha1).toBe(createHash('sha1').update(data).digest('hex'));
      // magic, FLG 0x64 (independent blocks, content checksum), BD 0x60 (1 MiB blocks)
      expect(stored.subarray(0, 6)).toEqual(Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x64, 0x60]));
      expect(stored.length).toBeLessThan(size / 2 + 100);
      // our decoder checks the header checksum and the content checksum
      expect((await decode(stored)).equals(data)).toBe(true);
    },
  );

  it('stores blocks that do not compress as they are', async () => {
    const data = randomBytes(MiB + 10);
    const path = join(dir, 'segment');
    writeFileSync(path, data);
    let stored: Buffer = Buffer.alloc(0);
    await copyWal(path, 'lz4', 1, async (source) => {
      stored = await collect(source);
    });
    // header (7), then a stored block: size with the high bit set, the bytes as they are
    expect(stored.readUInt32LE(7)).toBe((MiB | 0x80000000) >>> 0);
    expect(stored.subarray(11, 11 + MiB).equals(data.subarray(0, MiB))).toBe(true);
    expect((await decode(stored)).equals(data)).toBe(true);
  });

  it('with gz (and none) goes through the filter pipeline', async () => {
    const data = walLike(3 * MiB);
    const path = join(dir, 'segment');
    writeFileSync(path, data);
    let stored: Buffer = Buffer.alloc(0);
    const { sha1 } = await copyWal(path, 'gz', 6, async (source) => {
      stored = await collect(source);
    });
    expect(sha1).toBe(createHash('sha1').update(data).digest('hex'));
    expect(stored.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const none = await copyWal(path, 'none', 0, async (source) => {
      expect((await collect(source)).equals(data)).toBe(true);
    });
    expect(none.sha1).toBe(sha1);
  });

  it('a failing write stops the copy and closes the file', async () => {
    const path = join(dir, 'segment');
    writeFileSync(path, walLike(5 * MiB));
    await expect(
      copyWal(path, 'lz4', 1, async (source) => {
        for await (const frame of source) if (frame.length > 0) throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    await expect(copyWal(join(dir, 'missing'), 'lz4', 1, async () => {})).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
