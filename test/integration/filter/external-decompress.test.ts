import { chmodSync, closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { isPgkeepError, PgkeepError } from '../../../engine/error/pgkeep-error.js';
import {
  decompressToFile,
  ExternalDecompressFilter,
  type ExternalDecompressor,
} from '../../../engine/filter/external-decompress.js';
import { decompressFilter } from '../../../engine/filter/compress.js';
import { runPipeline } from '../../../engine/filter/pipeline.js';
import { run } from '../../harness/run.js';
import { tempDir } from '../../harness/temp-dir.js';
import { heapPages } from './heap-pages.js';

async function failure(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

const program = (path: string, args: string[] = []): ExternalDecompressor => ({
  program: path,
  args,
  format: 'test',
  aptPackage: 'test',
});

describe('ExternalDecompressFilter failures', () => {
  it('reports a program that dies while it is still being fed (zstd on garbage)', async () => {
    const garbage = Buffer.alloc(8 * 1024 * 1024, 0x5a);
    const error = await failure(() => runPipeline(garbage, [decompressFilter('zst', 'bad.zst')]));
    expect(isPgkeepError(error, 'Format')).toBe(true);
    expect(error.message).toMatch(/^unable to decompress zstd data 'bad\.zst': zstd exited with code 1: zstd: .+/);
  });

  it('reports a program that fails silently, or is killed by a signal', async () => {
    const silent = await failure(() => runPipeline(Buffer.from('x'), [new ExternalDecompressFilter(program('false'))]));
    expect(silent.message).toBe('unable to decompress test data: false exited with code 1');
    const killed = await failure(() =>
      runPipeline(Buffer.from('x'), [new ExternalDecompressFilter(program('sh', ['-c', 'kill -9 $$']), 'f')]),
    );
    expect(killed.message).toBe("unable to decompress test data 'f': sh was killed by SIGKILL");
  });

  it('reports a program that cannot run', async () => {
    const dir = tempDir('filter-external', null);
    const broken = join(dir, 'broken');
    // Executable, but its interpreter does not exist: spawn fails with ENOENT.
    writeFileSync(broken, '#!/nonexistent/interpreter\n');
    chmodSync(broken, 0o755);
    const error = await failure(() => runPipeline(Buffer.from('x'), [new ExternalDecompressFilter(program(broken))]));
    expect(error.message).toMatch(
      new RegExp(`^unable to decompress test data: ${broken} could not run: spawn ${broken} ENOENT$`),
    );
  });

  it('stops the program when the pipeline fails downstream', async () => {
    const dir = tempDir('filter-external', null);
    const file = join(dir, 'heap');
    writeFileSync(file, heapPages(4 * 1024 * 1024));
    await run('zstd', ['-q', '-f', file, '-o', `${file}.zst`]);
    const filter = decompressFilter('zst');
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('disk full'));
      },
    });
    const error = await failure(async () => {
      const { createReadStream } = await import('node:fs');
      await runPipeline(createReadStream(`${file}.zst`), [filter], failing);
    });
    expect(error.message).toBe('disk full');
    expect(filter.destroyed).toBe(true);
    // The child was killed: no zstd of ours is left (give the kill a moment to land).
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { stdout } = await run('sh', ['-c', `pgrep -P ${process.pid} -x zstd || true`]);
    expect(stdout.trim()).toBe('');
  });
});

describe('decompressToFile', () => {
  const lz4: ExternalDecompressor = { program: 'lz4', args: ['-d', '-c', '-q'], format: 'lz4', aptPackage: 'lz4' };

  /** Runs decompressToFile into a new file; returns the file's bytes, or the error. */
  async function into(
    decompressor: ExternalDecompressor,
    source: Readable | FileHandle,
    name?: string,
    path = join(tempDir('filter-to-file', null), 'out'),
  ): Promise<Buffer | Error> {
    const fd = openSync(path, 'w');
    try {
      await decompressToFile(decompressor, source, fd, path, name);
      return readFileSync(path);
    } catch (error) {
      return error as Error;
    } finally {
      closeSync(fd);
    }
  }

  /** 3 MiB of heap pages, and the lz4 program's frame of them (`${file}.lz4`), in a new directory. */
  async function lz4Heap(): Promise<{ dir: string; file: string; plain: Buffer }> {
    const dir = tempDir('filter-to-file', null);
    const file = join(dir, 'heap');
    const plain = heapPages(3 * 1024 * 1024);
    writeFileSync(file, plain);
    await run('lz4', ['-q', '-f', file, `${file}.lz4`]);
    return { dir, file, plain };
  }

  it('writes what the program decompresses straight into the file', async () => {
    const { file, plain } = await lz4Heap();
    const out = await into(lz4, Readable.from([readFileSync(`${file}.lz4`)]));
    expect(Buffer.isBuffer(out) && out.equals(plain)).toBe(true);

    // A target that cannot take the bytes is the target's failure, named as such.
    const full = await into(lz4, Readable.from([readFileSync(`${file}.lz4`)]), 'heap.lz4', '/dev/full');
    expect(isPgkeepError(full, 'FileWrite')).toBe(true);
    expect((full as Error).message).toMatch(/^unable to write '\/dev\/full': lz4 exited with code \d+: .*write error/i);
  });

  it("reads an open file as the program's stdin, from its start, and reports corrupt input the same way", async () => {
    const { dir, file, plain } = await lz4Heap();
    const handle = await open(`${file}.lz4`, 'r');
    try {
      const out = await into(lz4, handle);
      expect(Buffer.isBuffer(out) && out.equals(plain)).toBe(true);
      // The handle stays the caller's, open.
      expect((await handle.stat()).size).toBeGreaterThan(0);
    } finally {
      await handle.close();
    }

    writeFileSync(join(dir, 'bad.lz4'), Buffer.alloc(1000, 0x5a));
    const bad = await open(join(dir, 'bad.lz4'), 'r');
    try {
      const corrupt = await into(lz4, bad, 'bad.lz4');
      expect(isPgkeepError(corrupt, 'Format')).toBe(true);
      expect((corrupt as Error).message).toMatch(/^unable to decompress lz4 data 'bad\.lz4': lz4 exited with code \d+: .+/);
      const missing = await into(program('/nonexistent/lz4'), bad, 'bad.lz4');
      expect(isPgkeepError(missing, 'FeatureNotSupported')).toBe(true);
    } finally {
      await bad.close();
    }
  });

  it('reports corrupt input, a missing program, and a failing source as they are', async () => {
    const corrupt = await into(lz4, Readable.from([Buffer.alloc(1000, 0x5a)]), 'bad.lz4');
    expect(isPgkeepError(corrupt, 'Format')).toBe(true);
    expect((corrupt as Error).message).toMatch(/^unable to decompress lz4 data 'bad\.lz4': lz4 exited with code \d+: .+/);

    const missing = await into(program('/nonexistent/lz4'), Readable.from([Buffer.from('x')]), 'f.lz4');
    expect(isPgkeepError(missing, 'FeatureNotSupported')).toBe(true);
    expect((missing as Error).message).toBe(
      "unable to decompress 'f.lz4': test data needs the '/nonexistent/lz4' program, which is not installed",
    );

    const failing = new Readable({
      read() {
        this.destroy(new PgkeepError('FileRead', "unable to read 'repo-file': i/o error"));
      },
    });
    const read = await into(lz4, failing);
    expect(isPgkeepError(read, 'FileRead')).toBe(true);
    expect((read as Error).message).toBe("unable to read 'repo-file': i/o error");
  });
});
