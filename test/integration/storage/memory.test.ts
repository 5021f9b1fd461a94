import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, describe, expect, it } from 'vitest';

import { PosixStorage } from '../../../engine/storage/posix/posix-storage.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

const MiB = 1024 * 1024;
const TOTAL = 512 * MiB;
const CHUNK = MiB;
/** Growth of the process's memory allowed while 512 MB stream through. */
const MAX_RSS_GROWTH = 100 * MiB;
const MAX_BUFFERS = 64 * MiB;

/**
 * Samples memory while `work` runs and returns the largest growth of the resident set and of the
 * memory held by ArrayBuffers (the bytes in flight) over what they were before.
 */
async function peakGrowth(work: () => Promise<void>): Promise<{ rss: number; buffers: number }> {
  const before = process.memoryUsage();
  let rss = 0;
  let buffers = 0;
  const sample = (): void => {
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss - before.rss);
    buffers = Math.max(buffers, now.arrayBuffers - before.arrayBuffers);
  };
  const timer = setInterval(sample, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
    sample();
  }
  return { rss, buffers };
}

/**
 * 512 MB in fresh 1 MiB chunks, each filled so that its pages are really in memory: a writer that
 * ignored backpressure would hold all of them.
 */
function generated(hash: ReturnType<typeof createHash>): Readable {
  let produced = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (produced === TOTAL) {
        this.push(null);
        return;
      }
      const chunk = Buffer.allocUnsafe(CHUNK).fill(produced / CHUNK);
      chunk.writeUInt32BE(produced / CHUNK, 0);
      produced += CHUNK;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

describe('PosixStorage memory while streaming 512 MB', () => {
  const dir = tempDir('storage-memory', null);
  const storage = new PosixStorage({ basePath: dir });
  afterAll(() => removeDir(dir));

  it('writes 512 MB from a Readable and reads it back with flat memory', async () => {
    const written = createHash('sha1');
    const write = await peakGrowth(() => storage.write('big', generated(written)));
    expect(statSync(join(dir, 'big')).size).toBe(TOTAL);
    expect(write.rss).toBeLessThan(MAX_RSS_GROWTH);
    expect(write.buffers).toBeLessThan(MAX_BUFFERS);

    const read = createHash('sha1');
    let bytes = 0;
    const reading = await peakGrowth(async () => {
      for await (const chunk of (await storage.read('big'))!) {
        read.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
    });
    expect(bytes).toBe(TOTAL);
    expect(read.digest('hex')).toBe(written.digest('hex'));
    expect(reading.rss).toBeLessThan(MAX_RSS_GROWTH);
    expect(reading.buffers).toBeLessThan(MAX_BUFFERS);
    console.log(
      `512 MB write: rss +${(write.rss / MiB).toFixed(1)} MiB, buffers +${(write.buffers / MiB).toFixed(1)} MiB; ` +
        `read: rss +${(reading.rss / MiB).toFixed(1)} MiB, buffers +${(reading.buffers / MiB).toFixed(1)} MiB`,
    );
    await storage.remove('big');
  });

  it('writes 512 MB from an async generator with flat memory', async () => {
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let index = 0; index < TOTAL / CHUNK; index++) yield Buffer.allocUnsafe(CHUNK).fill(index);
    }
    const growth = await peakGrowth(() => storage.write('big-generator', source(), { sync: false }));
    expect(statSync(join(dir, 'big-generator')).size).toBe(TOTAL);
    expect(growth.rss).toBeLessThan(MAX_RSS_GROWTH);
    expect(growth.buffers).toBeLessThan(MAX_BUFFERS);
    await storage.remove('big-generator');
  });
});
