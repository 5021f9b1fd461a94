import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { BackgroundContext } from '../../../../../engine/archive-async/async-main.js';
import { tracingConfigIo } from '../../../../../engine/archive-async/config-trace.js';
import { getAsync, queueNeed } from '../../../../../engine/command/archive-get/get-async.js';
import { runGetQueue } from '../../../../../engine/command/archive-get/get-queue.js';
import { pushWalFile } from '../../../../../engine/command/archive-push/push-file.js';
import { runCommand } from '../../../../../engine/command/run.js';
import { parseCommandLine } from '../../../../../engine/config/command-line.js';
import { resolveConfig } from '../../../../../engine/config/resolve.js';
import { log, type LogRecord } from '../../../../../engine/log/logger.js';
import { acquireLock, type StanzaLock } from '../../../../../engine/repo/lock/lock.js';
import { PosixStorage } from '../../../../../engine/storage/posix/posix-storage.js';
import { ArchiveWorld, SEGMENTS } from './world.js';

let world: ArchiveWorld;
let records: LogRecord[];
let unsubscribe: () => void;
let sums: string[];
const SIZE = 16 * 1024 * 1024;

beforeEach(async () => {
  world = new ArchiveWorld({ 'archive-timeout': 1, 'process-max': 2 });
  await world.createStanza();
  const repo = { index: 1, storage: new PosixStorage({ basePath: world.repoPath }), stanza: 'main', cipherPass: undefined };
  // The archive holds the first three segments.
  sums = [];
  for (const name of SEGMENTS.slice(0, 3)) {
    sums.push(world.segment(name, name, { ready: false }));
    await pushWalFile(join(world.walDir, name), repo, { compressType: 'lz4', headerCheck: true });
  }
  records = [];
  unsubscribe = log.subscribe((record) => records.push(record));
  log.configure({ console: 'off', stderr: 'off', file: 'off', timestamp: false, processId: 0 });
});
afterEach(() => {
  unsubscribe();
  world.destroy();
});

const sha1 = (path: string) => createHash('sha1').update(readFileSync(path)).digest('hex');
const queue = () => readdirSync(world.inDir).sort();

async function background(files: string[], options: string[] = []): Promise<BackgroundContext> {
  const { io, trace } = tracingConfigIo();
  const config = resolveConfig({
    command: 'archive-get',
    commandLine: parseCommandLine([`--config=${world.configPath}`, '--stanza=main', ...options, 'archive-get', ...files]),
    env: {},
    io,
  });
  const lock = await acquireLock({ lockPath: world.lockPath, stanza: 'main', type: 'archive' });
  locks.push(lock);
  return { config, lock, configTrace: trace, signal: new AbortController().signal };
}
const locks: StanzaLock[] = [];
afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.release();
});

describe('the background get process', () => {
  it('fetches the segments it has into the queue, verified, and marks the first missing one', async () => {
    await runGetQueue(await background(SEGMENTS.slice(0, 5)));
    expect(queue()).toEqual([...SEGMENTS.slice(0, 3), `${SEGMENTS[3]}.ok`]);
    for (const [index, name] of SEGMENTS.slice(0, 3).entries()) expect(sha1(join(world.inDir, name))).toBe(sums[index]);
    expect(readFileSync(join(world.inDir, `${SEGMENTS[3]}.ok`), 'utf8')).toBe('');
  });

  it('a damaged archived segment gets an .error with ArchiveCorrupt (recovery must stop, not end)', async () => {
    const dir = join(world.repoPath, 'archive', 'main', '15-1', '0000000100000000');
    const stored = readdirSync(dir).find((name) => name.startsWith(SEGMENTS[1]))!;
    const bytes = readFileSync(join(dir, stored));
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(join(dir, stored), bytes);
    await runGetQueue(await background(SEGMENTS.slice(0, 3)));
    expect(queue()).toEqual([SEGMENTS[0], `${SEGMENTS[1]}.error`, SEGMENTS[2]]);
    expect(readFileSync(join(world.inDir, `${SEGMENTS[1]}.error`), 'utf8')).toMatch(/^139\nWAL file /);
  });

  it('no usable repository: an .error for the segment it stopped at', async () => {
    await world.createStanza(4242n); // another cluster's stanza
    await runGetQueue(await background([SEGMENTS[0]]));
    expect(readFileSync(join(world.inDir, `${SEGMENTS[0]}.error`), 'utf8')).toMatch(
      /^103\nunable to find a valid repository\nrepo1: \[ArchiveMismatch\] unable to retrieve the archive id/,
    );
  });

  it('a failure before any segment goes to global.error', async () => {
    await expect(
      runGetQueue(await background([SEGMENTS[0]], [`--pg1-path=${join(world.root, 'nowhere')}`])),
    ).rejects.toMatchObject({
      errorName: 'FileMissing',
    });
    expect(readFileSync(join(world.inDir, 'global.error'), 'utf8')).toMatch(/^55\n/);
  });

  it('needs segments', async () => {
    await expect(runGetQueue(await background([]))).rejects.toMatchObject({ errorName: 'ParamInvalid' });
  });
});

describe('the queue the background process should fill (queueNeed)', () => {
  it('is archive-get-queue-max worth of segments from the one asked for, less what is queued', async () => {
    mkdirSync(world.inDir, { recursive: true });
    for (const name of [SEGMENTS[0], SEGMENTS[2], '000000010000000000000009', `${SEGMENTS[2]}.ok`, `${SEGMENTS[4]}.ok`])
      writeFileSync(join(world.inDir, name), '');
    writeFileSync(join(world.inDir, `${SEGMENTS[3]}.pgkeep.get`), 'partial'); // left by a killed process
    writeFileSync(join(world.inDir, `${SEGMENTS[3]}.ok.pgkeep.tmp.1.ab`), '');
    // found SEGMENTS[0]: the queue should hold the next 4 (64 MiB)
    expect(await queueNeed(world.inDir, SEGMENTS[0], true, 4 * SIZE, SIZE)).toEqual([SEGMENTS[1], SEGMENTS[3], SEGMENTS[4]]);
    expect(queue()).toEqual([SEGMENTS[2], `${SEGMENTS[2]}.ok`]);
    // not found: from the one asked for; never fewer than 2
    expect(await queueNeed(world.inDir, SEGMENTS[1], false, 0, SIZE)).toEqual([SEGMENTS[1]]);
  });
});

describe('archive-get --archive-async, the foreground', () => {
  it('moves a queued segment into place (exit 0) and refills the queue', async () => {
    await runGetQueue(await background(SEGMENTS.slice(0, 2)));
    await locks.pop()!.release();
    const destination = join(world.root, 'RECOVERYXLOG');
    expect(await getAsync(world.config('archive-get', [SEGMENTS[0], destination]), SEGMENTS[0], destination)).toBe(0);
    expect(sha1(destination)).toBe(sums[0]);
    expect(existsSync(join(world.inDir, SEGMENTS[0]))).toBe(false);
    expect(records.map((record) => record.message)).toContain(`found ${SEGMENTS[0]} in the archive asynchronously`);
    // less than half of the queue (128 MiB) is there: a background process was started for the rest
    expect(records.map((record) => record.message)).toContainEqual(
      expect.stringMatching(new RegExp(`^started the asynchronous archive-get process for ${SEGMENTS[2]}\\.\\.\\.`)),
    );
  });

  it('does not start a process when the queue is at least half full', async () => {
    world.writeConfig({ 'archive-timeout': 1, 'archive-get-queue-max': 2 * SIZE });
    mkdirSync(world.inDir, { recursive: true });
    for (const name of SEGMENTS.slice(0, 3)) writeFileSync(join(world.inDir, name), Buffer.alloc(SIZE));
    const destination = join(world.root, 'RECOVERYXLOG');
    expect(await getAsync(world.config('archive-get', [SEGMENTS[0], destination]), SEGMENTS[0], destination)).toBe(0);
    expect(records.map((record) => record.message).filter((message) => message.startsWith('started'))).toEqual([]);
  });

  it('does not start a process when the queue already holds everything it should', async () => {
    // small files: the queue is under half of archive-get-queue-max by size, yet complete
    world.writeConfig({ 'archive-timeout': 1, 'archive-get-queue-max': 2 * SIZE });
    mkdirSync(world.inDir, { recursive: true });
    for (const name of SEGMENTS.slice(0, 3)) writeFileSync(join(world.inDir, name), 'x');
    const destination = join(world.root, 'RECOVERYXLOG');
    expect(await getAsync(world.config('archive-get', [SEGMENTS[0], destination]), SEGMENTS[0], destination)).toBe(0);
    expect(records.map((record) => record.message).filter((message) => message.startsWith('started'))).toEqual([]);
  });

  it('through the command: a queued segment is served from the queue', async () => {
    mkdirSync(world.inDir, { recursive: true });
    writeFileSync(join(world.inDir, SEGMENTS[0]), 'queued');
    const destination = join(world.root, 'RECOVERYXLOG');
    const args = [`--config=${world.configPath}`, '--stanza=main', 'archive-get', SEGMENTS[0], destination];
    expect(await runCommand(args, { sink: { stdout: () => {}, stderr: () => {} }, env: {}, uid: 1000 })).toBe(0);
    expect(readFileSync(destination, 'utf8')).toBe('queued');
  });

  it('an .ok without the segment is the end of the archive (exit 1) when archive-missing-retry is off', async () => {
    world.writeConfig({ 'archive-timeout': 1, 'archive-missing-retry': 'n' });
    mkdirSync(world.inDir, { recursive: true });
    writeFileSync(join(world.inDir, `${SEGMENTS[4]}.ok`), '0\nrepo2: [FileMissing] gone');
    const destination = join(world.root, 'RECOVERYXLOG');
    expect(await getAsync(world.config('archive-get', [SEGMENTS[4], destination]), SEGMENTS[4], destination)).toBe(1);
    expect(existsSync(join(world.inDir, `${SEGMENTS[4]}.ok`))).toBe(false);
    expect(records).toContainEqual(expect.objectContaining({ level: 'warn', message: 'repo2: [FileMissing] gone' }));
    expect(records.map((record) => record.message)).toContain(`unable to find ${SEGMENTS[4]} in the archive asynchronously`);
  });

  it('with archive-missing-retry, a stale .ok is not believed: it asks again, and times out when nobody answers', async () => {
    mkdirSync(world.inDir, { recursive: true });
    writeFileSync(join(world.inDir, `${SEGMENTS[4]}.ok`), '');
    const destination = join(world.root, 'RECOVERYXLOG');
    await expect(
      getAsync(world.config('archive-get', [SEGMENTS[4], destination]), SEGMENTS[4], destination),
    ).rejects.toMatchObject({
      errorName: 'ArchiveTimeout',
      message: `unable to get WAL file '${SEGMENTS[4]}' from the archive asynchronously after 1 second(s)`,
    });
  });

  it('reports an .error from the second look on, with its code', async () => {
    mkdirSync(world.inDir, { recursive: true });
    writeFileSync(join(world.inDir, `${SEGMENTS[1]}.error`), '139\nWAL file is damaged');
    const held = await acquireLock({ lockPath: world.lockPath, stanza: 'main', type: 'archive' });
    try {
      const destination = join(world.root, 'RECOVERYXLOG');
      await expect(
        getAsync(world.config('archive-get', [SEGMENTS[1], destination]), SEGMENTS[1], destination),
      ).rejects.toMatchObject({ errorName: 'ArchiveCorrupt', code: 139 });
    } finally {
      await held.release();
    }
  });

  it('a lock path it cannot use is an error', async () => {
    writeFileSync(join(world.root, 'not-a-dir'), '');
    const destination = join(world.root, 'RECOVERYXLOG');
    const config = world.config('archive-get', [`--lock-path=${join(world.root, 'not-a-dir', 'x')}`, SEGMENTS[1], destination]);
    await expect(getAsync(config, SEGMENTS[1], destination)).rejects.toMatchObject({ errorName: 'LockAcquire' });
  });

  it('history files are fetched synchronously even with archive-async', async () => {
    writeFileSync(join(world.walDir, '00000002.history'), '1\t0/1F000000\tno recovery target specified\n');
    const repo = { index: 1, storage: new PosixStorage({ basePath: world.repoPath }), stanza: 'main', cipherPass: undefined };
    await pushWalFile(join(world.walDir, '00000002.history'), repo, { compressType: 'lz4', headerCheck: true });
    const destination = join(world.root, 'RECOVERYHISTORY');
    const args = [`--config=${world.configPath}`, '--stanza=main', 'archive-get', '00000002.history', destination];
    const sink = { stdout: () => {}, stderr: () => {} };
    expect(await runCommand(args, { sink, env: {}, uid: 1000 })).toBe(0);
    expect(readFileSync(destination, 'utf8')).toContain('no recovery target');
    expect(existsSync(world.inDir)).toBe(false);
  });
});

describe('edge cases of the get queue', () => {
  it('copies into place when the spool and the destination are on different file systems', async () => {
    // /dev/shm is a tmpfs: a rename from the test's temporary directory fails with EXDEV
    if (!existsSync('/dev/shm')) return;
    const other = mkdtempSync('/dev/shm/pgkeep-get-');
    try {
      await runGetQueue(await background([SEGMENTS[0]]));
      await locks.pop()!.release();
      const destination = join(other, 'RECOVERYXLOG');
      expect(await getAsync(world.config('archive-get', [SEGMENTS[0], destination]), SEGMENTS[0], destination)).toBe(0);
      expect(sha1(destination)).toBe(sums[0]);
      expect(existsSync(join(world.inDir, SEGMENTS[0]))).toBe(false);
      // a destination that cannot be written is a move error
      await runGetQueue(await background([SEGMENTS[1]]));
      await locks.pop()!.release();
      const nowhere = join(world.root, 'missing-dir', 'RECOVERYXLOG');
      await expect(getAsync(world.config('archive-get', [SEGMENTS[1], nowhere]), SEGMENTS[1], nowhere)).rejects.toMatchObject({
        errorName: 'FileMissing',
      });
      // on the other file system the rename gives EXDEV and the copy fails (a directory is in the way)
      const shmNowhere = join(other, 'a-directory');
      mkdirSync(shmNowhere);
      await expect(getAsync(world.config('archive-get', [SEGMENTS[1], shmNowhere]), SEGMENTS[1], shmNowhere)).rejects.toThrow(
        `unable to move '${join(world.inDir, SEGMENTS[1])}'`,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('stops fetching when told to, and duplicates in the archive stop the queue there', async () => {
    const controller = new AbortController();
    controller.abort();
    const context = await background(SEGMENTS.slice(0, 2));
    await runGetQueue({ ...context, signal: controller.signal });
    expect(existsSync(join(world.inDir, SEGMENTS[0]))).toBe(false);
    const dir = join(world.repoPath, 'archive', 'main', '15-1', '0000000100000000');
    const stored = readdirSync(dir).find((name) => name.startsWith(SEGMENTS[1]))!;
    writeFileSync(join(dir, `${SEGMENTS[1]}-${'2'.repeat(40)}.lz4`), readFileSync(join(dir, stored)));
    await locks.pop()!.release();
    await runGetQueue(await background(SEGMENTS.slice(0, 3)));
    expect(queue()).toEqual([SEGMENTS[0], `${SEGMENTS[1]}.error`]);
    expect(readFileSync(join(world.inDir, `${SEGMENTS[1]}.error`), 'utf8')).toMatch(/^45\nduplicates found/);
  });

  it('warnings of a failing repository travel with the segment in its .ok', async () => {
    world.writeConfig({ 'archive-timeout': 1, 'repo2-path': world.repoPath });
    await runGetQueue(await background([SEGMENTS[0]], [`--repo1-path=${join(world.root, 'gone')}`]));
    expect(readFileSync(join(world.inDir, `${SEGMENTS[0]}.ok`), 'utf8')).toMatch(/^0\nrepo1: \[FileMissing\]/);
    expect(queue()).toContain(SEGMENTS[0]);
  });
});
