import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { handler, type BackupFileJob } from '../../../../../engine/command/backup/backup-file.js';
import type { JobContext } from '../../../../../engine/exec/job.js';
import { decompressFilter } from '../../../../../engine/filter/compress.js';
import { runPipeline } from '../../../../../engine/filter/pipeline.js';
import { pageChecksumSet } from '../../../../../engine/postgres/page-checksum.js';

const dir = mkdtempSync(join(tmpdir(), 'pgkeep-backup-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const context = { progress: () => {} } as unknown as JobContext;
const sha1 = (data: Uint8Array) => createHash('sha1').update(data).digest('hex');

/** `count` pages with valid checksums for blocks 0.. (a relation segment 0). */
function relation(count: number): Buffer {
  const data = Buffer.alloc(count * 8192);
  for (let block = 0; block < count; block++) {
    const page = data.subarray(block * 8192, (block + 1) * 8192);
    page.writeUInt16LE(24, 12); // pd_lower
    page.writeUInt16LE(8192 - 64 * (block % 7), 14); // pd_upper: not a new page
    page.fill(block & 0xff, 8192 - 64 * (block % 7));
    pageChecksumSet(page, block);
  }
  return data;
}

function job(name: string, data: Buffer, extra: Partial<BackupFileJob> = {}): BackupFileJob {
  const source = join(dir, name);
  writeFileSync(source, data);
  return {
    source,
    target: join(dir, `${name}.stored`),
    size: data.length,
    compressType: 'lz4',
    compressLevel: 1,
    pageChecksum: { segmentNo: 0 },
    ignoreMissing: true,
    bufferSize: 1048576,
    ...extra,
  };
}

async function plain(path: string, type: 'lz4' | 'gz' | 'none'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await runPipeline(readFileSync(path), [decompressFilter(type)], async (output) => {
    for await (const chunk of output) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

describe('backup file job', () => {
  for (const [label, pages] of [
    ['a small file, read whole', 3],
    ['a large file, streamed', 300],
  ] as const) {
    for (const compressType of ['lz4', 'gz', 'none'] as const) {
      it(`copies ${label} (${compressType}) with its checksums and page checks`, async () => {
        const data = relation(pages);
        const copy = job(`${pages}-${compressType}`, data, { compressType });
        const result = await handler(copy, context);
        const stored = readFileSync(copy.target);
        expect(result).toEqual({
          status: 'copied',
          size: data.length,
          checksum: sha1(data),
          repoSize: stored.length,
          repoChecksum: sha1(stored),
          pageChecksum: { valid: true, errorList: undefined },
        });
        expect((await plain(copy.target, compressType)).equals(data)).toBe(true);
      });
    }
  }

  it('reports damaged pages without failing the copy', async () => {
    const data = relation(40);
    data[5 * 8192 + 4000] ^= 0xff;
    const result = await handler(job('damaged', data), context);
    expect(result).toMatchObject({ status: 'copied', pageChecksum: { valid: false, errorList: [5] } });
  });

  it('does not read a file before its notBefore time', async () => {
    const notBefore = Date.now() + 150;
    const result = await handler(job('recent', Buffer.from('x'), { pageChecksum: undefined, notBefore }), context);
    expect(Date.now()).toBeGreaterThanOrEqual(notBefore);
    expect(result).toMatchObject({ status: 'copied', size: 1 });
  });

  it('keeps a delta file whose checksum still matches, and says when a file is gone', async () => {
    const data = relation(2);
    const matched = await handler(job('delta', data, { delta: { checksum: sha1(data), size: data.length } }), context);
    expect(matched).toEqual({ status: 'matched', size: data.length, checksum: sha1(data) });
    const gone = job('gone', data);
    rmSync(gone.source);
    expect(await handler(gone, context)).toEqual({ status: 'missing' });
  });

  it('says when a large file is gone, or fails naming it when it must be there', async () => {
    const data = relation(100);
    const gone = job('gone-large', data);
    rmSync(gone.source);
    expect(await handler(gone, context)).toEqual({ status: 'missing' });
    await expect(handler({ ...gone, ignoreMissing: false }, context)).rejects.toMatchObject({
      errorName: 'FileMissing',
      message: expect.stringContaining(gone.source),
    });
  });

  it('streams a small file that grew past 1 MiB since the manifest was built', async () => {
    const data = relation(200);
    const grown = job('grown', data, { size: 8192 });
    const result = await handler(grown, context);
    expect(result).toMatchObject({ status: 'copied', size: data.length, checksum: sha1(data) });
    expect((await plain(grown.target, 'lz4')).equals(data)).toBe(true);
  });

  it('reports the progress of a large file as it is read', async () => {
    const data = relation(200);
    const seen: number[] = [];
    await handler(job('progress', data, { pageChecksum: undefined }), {
      progress: (bytes: number) => seen.push(bytes),
    } as unknown as JobContext);
    expect(seen.at(-1)).toBe(data.length);
    expect(seen.length).toBeGreaterThan(1);
  });
});
