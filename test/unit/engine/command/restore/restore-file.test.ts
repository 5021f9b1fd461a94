import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { handler, type RestoreFileJob } from '../../../../../engine/command/restore/restore-file.js';
import { workersFor } from '../../../../../engine/command/restore/workers.js';
import type { JobContext } from '../../../../../engine/exec/job.js';
import { copyToRepo } from '../../../../../engine/filter/pipeline.js';
import { isPgkeepError } from '../../../../../engine/error/pgkeep-error.js';

const root = mkdtempSync(join(tmpdir(), 'pgkeep-restore-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');
const progress: number[] = [];
const context = { progress: (bytes: number) => progress.push(bytes) } as unknown as JobContext;

async function store(name: string, content: Buffer, compressType: 'lz4' | 'gz' | 'none'): Promise<string> {
  const path = join(root, name);
  const chunks: Buffer[] = [];
  await copyToRepo(
    content,
    async (data) => {
      for await (const chunk of data) chunks.push(chunk);
    },
    { compressType },
  );
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

function copyJob(overrides: Partial<Extract<RestoreFileJob, { kind: 'copy' }>>): Extract<RestoreFileJob, { kind: 'copy' }> {
  return {
    kind: 'copy',
    name: 'pg_data/base/1/1',
    repoPath: '',
    offset: null,
    limit: null,
    repoSize: 0,
    compressType: 'lz4',
    stagePath: join(root, `stage-${randomBytes(4).toString('hex')}`),
    size: 0,
    checksum: '',
    mode: 0o640,
    uid: undefined,
    gid: undefined,
    mtime: 1_700_000_000,
    bufferSize: 65536,
    ...overrides,
  };
}

async function failure(work: unknown) {
  try {
    await work;
  } catch (error) {
    if (isPgkeepError(error)) return error;
    throw error;
  }
  throw new Error('expected a PgkeepError');
}

describe('the restore file job', () => {
  it('copies and verifies, with mode and time; big lz4 files go through the lz4 program', async () => {
    const content = Buffer.concat([randomBytes(1 << 20), Buffer.alloc(3 << 20, 7)]);
    for (const compressType of ['lz4', 'gz', 'none'] as const) {
      const repoPath = await store(`big.${compressType}`, content, compressType);
      const job = copyJob({
        repoPath,
        repoSize: statSync(repoPath).size,
        compressType,
        size: content.length,
        checksum: sha1(content),
      });
      expect(await handler(job, context)).toEqual({ kind: 'copy', size: content.length, checksum: sha1(content) });
      const stats = statSync(job.stagePath);
      expect([stats.mode & 0o777, stats.mtimeMs / 1000]).toEqual([0o640, 1_700_000_000]);
      expect(readFileSync(job.stagePath).equals(content)).toBe(true);
    }
    expect(progress.at(-1)).toBe(content.length);
  });

  it('reads a bundled file at its offset', async () => {
    const first = Buffer.from('first file');
    const second = Buffer.from('the second one');
    const bundle = join(root, 'bundle');
    const parts = [await store('part1', first, 'gz'), await store('part2', second, 'gz')].map((path) => readFileSync(path));
    writeFileSync(bundle, Buffer.concat(parts));
    const job = copyJob({
      repoPath: bundle,
      offset: parts[0]!.length,
      limit: parts[1]!.length,
      repoSize: parts[1]!.length,
      compressType: 'gz',
      size: second.length,
      checksum: sha1(second),
    });
    await handler(job, context);
    expect(readFileSync(job.stagePath, 'utf8')).toBe('the second one');
  });

  it('a damaged or short repository file fails naming it, and leaves no staged file', async () => {
    const content = Buffer.alloc(3 << 20, 1);
    const repoPath = await store('damaged.lz4', content, 'lz4');
    const damaged = readFileSync(repoPath);
    writeFileSync(repoPath, damaged.subarray(0, damaged.length - 100));
    const job = copyJob({ repoPath, repoSize: damaged.length, size: content.length, checksum: sha1(content) });
    const error = await failure(handler(job, context));
    expect(error.message).toContain(`unable to restore 'pg_data/base/1/1' from repository file '${repoPath}'`);
    expect(() => statSync(job.stagePath)).toThrow();

    const small = await store('small.lz4', Buffer.from('abc'), 'lz4');
    const wrong = copyJob({ repoPath: small, repoSize: statSync(small).size, size: 3, checksum: sha1(Buffer.from('abd')) });
    const mismatch = await failure(handler(wrong, context));
    expect(mismatch).toMatchObject({ errorName: 'Checksum' });
    expect(mismatch.message).toContain(`repository file '${small}' gives 3 bytes with checksum ${sha1(Buffer.from('abc'))}`);

    const missing = await failure(handler(copyJob({ repoPath: join(root, 'nope') }), context));
    expect(missing.errorName).toBe('FileMissing');
    // A large lz4 file, which the lz4 program reads once it is opened here: missing, or not a file.
    const large = { repoSize: 2 << 20, size: 4 << 20, checksum: sha1(content) };
    const missingLarge = await failure(handler(copyJob({ ...large, repoPath: join(root, 'nope') }), context));
    expect(missingLarge.errorName).toBe('FileMissing');
    expect(missingLarge.message).toContain(join(root, 'nope'));
    mkdirSync(join(root, 'large-directory'));
    const directory = await failure(handler(copyJob({ ...large, repoPath: join(root, 'large-directory') }), context));
    expect(directory).toMatchObject({
      errorName: 'FileRead',
      message: `unable to read '${join(root, 'large-directory')}': not a regular file`,
    });
    // A large lz4 file the lz4 program fails on, while its output is hashed as it grows.
    const big = Buffer.concat([randomBytes(2 << 20), Buffer.alloc(6 << 20, 5)]);
    const cut = await store('cut.lz4', big, 'lz4');
    const whole = readFileSync(cut);
    writeFileSync(cut, whole.subarray(0, whole.length - 1000));
    const cutJob = copyJob({ repoPath: cut, repoSize: whole.length, size: big.length, checksum: sha1(big) });
    const cutError = await failure(handler(cutJob, context));
    expect(cutError.message).toContain(`unable to restore 'pg_data/base/1/1' from repository file '${cut}'`);
    expect(() => statSync(cutJob.stagePath)).toThrow();
    // A small repository file that cannot be read (here a directory in its place).
    mkdirSync(join(root, 'a-directory'));
    const unreadable = await failure(handler(copyJob({ repoPath: join(root, 'a-directory'), repoSize: 10 }), context));
    expect(unreadable.errorName).toBe('FileRead');
    expect(unreadable.message).toContain(`unable to read '${join(root, 'a-directory')}': illegal operation on a directory`);
    const unwritable = await failure(
      handler(
        copyJob({
          repoPath: small,
          repoSize: 20,
          size: 3,
          checksum: sha1(Buffer.from('abc')),
          stagePath: join(root, 'no-dir', 'x'),
        }),
        context,
      ),
    );
    expect(unwritable.message).toContain(join(root, 'no-dir', 'x'));
    expect((await failure(handler(copyJob({ repoPath: small, compressType: 'rar' }), context))).errorName).toBe('Assert');
  });

  it('hashes the first bytes of existing files, never through a link', async () => {
    const dir = join(root, 'hash');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a'), 'hello world');
    writeFileSync(join(dir, 'empty'), '');
    symlinkSync(join(dir, 'a'), join(dir, 'link'));
    const result = await handler(
      {
        kind: 'hash',
        files: [
          { path: join(dir, 'a'), size: 5 },
          { path: join(dir, 'a'), size: 50 },
          { path: join(dir, 'empty'), size: 0 },
        ],
      },
      context,
    );
    expect(result).toEqual({
      kind: 'hash',
      checksums: [sha1(Buffer.from('hello')), sha1(Buffer.from('hello world')), sha1(Buffer.alloc(0))],
    });
    // Several slices of 8 MiB between turns of the event loop, each of many reads, the last one partial;
    // a prefix that ends on a slice's end.
    const large = Buffer.alloc(16 * 1024 * 1024 + 12344);
    for (let index = 0; index < large.length; index += 4) large.writeUInt32LE((index * 2654435761) >>> 0, index);
    writeFileSync(join(dir, 'large'), large);
    const twice = await handler(
      {
        kind: 'hash',
        files: [
          { path: join(dir, 'large'), size: large.length },
          { path: join(dir, 'large'), size: 8 * 1024 * 1024 },
        ],
      },
      context,
    );
    expect(twice).toEqual({ kind: 'hash', checksums: [sha1(large), sha1(large.subarray(0, 8 * 1024 * 1024))] });
    const error = await failure(handler({ kind: 'hash', files: [{ path: join(dir, 'link'), size: 5 }] }, context));
    expect(error.message).toContain(join(dir, 'link'));
    const unreadable = await failure(handler({ kind: 'hash', files: [{ path: dir, size: 5 }] }, context));
    expect(unreadable.message).toContain(dir);
  });

  it('runs tiny job sets in this process', () => {
    const spawn = { spawn: () => undefined as never };
    expect(workersFor([{ size: 10 }], spawn).inProcess).toBeDefined();
    expect(workersFor([{ size: 1 << 30 }], spawn)).toBe(spawn);
    expect(
      workersFor(
        Array.from({ length: 5 }, () => ({ size: 1 })),
        spawn,
      ),
    ).toBe(spawn);
    const inProcess = { inProcess: {} };
    expect(workersFor([], inProcess)).toBe(inProcess);
  });
});
