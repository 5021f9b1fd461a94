import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { BackgroundContext } from '../../../../../engine/archive-async/async-main.js';
import { tracingConfigIo } from '../../../../../engine/archive-async/config-trace.js';
import { fastPathFile } from '../../../../../engine/archive-async/fast-path.js';
import { processList, runPushQueue } from '../../../../../engine/command/archive-push/push-queue.js';
import { parseCommandLine } from '../../../../../engine/config/command-line.js';
import { resolveConfig } from '../../../../../engine/config/resolve.js';
import { log } from '../../../../../engine/log/logger.js';
import { acquireLock, createStopFile, type StanzaLock } from '../../../../../engine/repo/lock/lock.js';
import { ArchiveWorld, SEGMENT_BYTES, SEGMENTS } from './world.js';

let world: ArchiveWorld;
let lock: StanzaLock | undefined;
const savedTmp = process.env.TMPDIR;

beforeEach(async () => {
  world = new ArchiveWorld({ 'process-max': 2 });
  await world.createStanza();
  process.env.TMPDIR = world.root; // the fast path descriptor goes here
  log.configure({ console: 'off', stderr: 'off', file: 'off', timestamp: false, processId: 0 });
});
afterEach(async () => {
  await lock?.release();
  lock = undefined;
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  world.destroy();
});

async function context(options: { args?: string[]; lingerMs?: number; signal?: AbortSignal } = {}): Promise<BackgroundContext> {
  const { io, trace } = tracingConfigIo();
  const config = resolveConfig({
    command: 'archive-push',
    commandLine: parseCommandLine([
      `--config=${world.configPath}`,
      '--stanza=main',
      'archive-push',
      ...(options.args ?? [world.walDir]),
    ]),
    env: {},
    io,
  });
  lock = await acquireLock({ lockPath: world.lockPath, stanza: 'main', type: 'archive' });
  return {
    config,
    lock,
    configTrace: trace,
    signal: options.signal ?? new AbortController().signal,
    lingerMs: options.lingerMs ?? 50,
  };
}

const out = () => readdirSync(world.outDir).sort();
const stored = () => {
  const dir = join(world.repoPath, 'archive', 'main', '15-1', '0000000100000000');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
};

describe('the files to push', () => {
  it('are the .ready files without an .ok; old errors and acknowledged .ok files are removed', async () => {
    for (const name of SEGMENTS.slice(0, 3)) world.segment(name);
    mkdirSync(world.outDir, { recursive: true });
    writeFileSync(join(world.outDir, `${SEGMENTS[0]}.ok`), ''); // done, PostgreSQL not yet told
    writeFileSync(join(world.outDir, `${SEGMENTS[4]}.ok`), ''); // PostgreSQL is done with it
    writeFileSync(join(world.outDir, `${SEGMENTS[1]}.error`), '45\nold'); // retried now
    writeFileSync(join(world.outDir, 'global.error'), '62\nold');
    expect(await processList(world.walDir, world.outDir)).toEqual([SEGMENTS[1], SEGMENTS[2]]);
    expect(out()).toEqual([`${SEGMENTS[0]}.ok`]);
  });
});

describe('the background push process', () => {
  it('pushes every ready segment, process-max at a time, an .ok for each, then ends', async () => {
    const sums = SEGMENTS.map((name) => world.segment(name));
    await runPushQueue(await context());
    expect(out()).toEqual(SEGMENTS.map((name) => `${name}.ok`));
    for (const name of SEGMENTS) expect(readFileSync(join(world.outDir, `${name}.ok`), 'utf8')).toBe('');
    expect(stored()).toEqual(SEGMENTS.map((name, index) => `${name}-${sums[index]}.lz4`));
  });

  it('stays a while for segments PostgreSQL finishes meanwhile, and pushes them as they come', async () => {
    world.segment(SEGMENTS[0]);
    setTimeout(() => world.segment(SEGMENTS[1]), 100);
    const started = Date.now();
    await runPushQueue(await context({ lingerMs: 400 }));
    expect(out()).toEqual([`${SEGMENTS[0]}.ok`, `${SEGMENTS[1]}.ok`]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450); // 100 ms, then 400 ms more without work
  });

  it('a segment already archived is ok with the warning in its .ok', async () => {
    world.segment(SEGMENTS[0]);
    await runPushQueue(await context());
    await lock!.release();
    // the .ok was lost (a crash before PostgreSQL got the answer): the segment is pushed again
    rmSync(join(world.outDir, `${SEGMENTS[0]}.ok`));
    await runPushQueue(await context());
    expect(readFileSync(join(world.outDir, `${SEGMENTS[0]}.ok`), 'utf8')).toBe(
      `0\nWAL file '${SEGMENTS[0]}' already exists in the repo1 archive with the same checksum\n` +
        'HINT: this is valid in some recovery scenarios but may also indicate a problem',
    );
  });

  it('a file that fails gets an .error with its code, the others are pushed, and the process ends', async () => {
    world.segment(SEGMENTS[0]);
    world.segment(SEGMENTS[1]);
    writeFileSync(join(world.walDir, SEGMENTS[1]), Buffer.alloc(SEGMENT_BYTES)); // not a WAL segment header
    world.segment(SEGMENTS[2]);
    await runPushQueue(await context({ lingerMs: 5000 })); // ends at once despite the long linger
    expect(out()).toEqual([`${SEGMENTS[0]}.ok`, `${SEGMENTS[1]}.error`, `${SEGMENTS[2]}.ok`]);
    expect(readFileSync(join(world.outDir, `${SEGMENTS[1]}.error`), 'utf8')).toMatch(/^29\nfirst page header in WAL file/);
  });

  it('a failure of the whole round goes to global.error, for every waiting foreground', async () => {
    world.segment(SEGMENTS[0]);
    rmSync(join(world.repoPath, 'archive'), { recursive: true });
    await expect(runPushQueue(await context())).rejects.toMatchObject({ errorName: 'FileMissing' });
    expect(readFileSync(join(world.outDir, 'global.error'), 'utf8')).toMatch(/^55\n/);
  });

  it('stopped, it writes global.error with the stop error', async () => {
    world.segment(SEGMENTS[0]);
    await createStopFile(world.lockPath, 'main');
    await expect(runPushQueue(await context())).rejects.toMatchObject({ errorName: 'Stop' });
    expect(readFileSync(join(world.outDir, 'global.error'), 'utf8')).toBe(
      "62\nstop file exists for stanza main\nHINT: run 'pgkeep start --stanza=main'",
    );
  });

  it('over archive-push-queue-max, drops the waiting files loudly: .ok with the warning, nothing stored', async () => {
    world.writeConfig({ 'archive-push-queue-max': SEGMENT_BYTES });
    for (const name of SEGMENTS.slice(0, 2)) world.segment(name);
    await runPushQueue(await context());
    for (const name of SEGMENTS.slice(0, 2)) {
      expect(readFileSync(join(world.outDir, `${name}.ok`), 'utf8')).toMatch(
        new RegExp(`^0\\ndropped WAL file '${name}' because archive queue exceeded 256KB\\nHINT:`),
      );
    }
    expect(stored()).toEqual([]);
  });

  it('ends when the configuration changes, and takes the fast path descriptor with it', async () => {
    const descriptor = fastPathFile('main');
    mkdirSync(join(descriptor, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(descriptor, 'pgkeep-fast-path 1\n');
    const running = context({ lingerMs: 5000 }).then((ready) => runPushQueue(ready));
    await new Promise((resolve) => setTimeout(resolve, 100));
    world.writeConfig({ 'process-max': 3 });
    const future = new Date(Date.now() + 1000);
    utimesSync(world.configPath, future, future);
    world.segment(SEGMENTS[0]); // wakes it up
    await running;
    expect(existsSync(descriptor)).toBe(false);
    expect(stored()).toEqual([]);
  });

  it('ends between files when told to stop', async () => {
    const controller = new AbortController();
    controller.abort();
    world.segment(SEGMENTS[0]);
    await runPushQueue(await context({ signal: controller.signal }));
    expect(stored()).toEqual([]);
  });

  it('needs the WAL directory', async () => {
    await expect(runPushQueue(await context({ args: [] }))).rejects.toMatchObject({ errorName: 'ParamRequired' });
  });
});
