import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { isPgkeepError } from '../../../engine/error/pgkeep-error.js';
import { ExternalDecompressFilter, type ExternalDecompressor } from '../../../engine/filter/external-decompress.js';
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
