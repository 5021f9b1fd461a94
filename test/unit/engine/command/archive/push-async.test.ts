import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { recordInvocation } from '../../../../../engine/archive-async/config-trace.js';
import { fastPathFile } from '../../../../../engine/archive-async/fast-path.js';
import { pushAsync } from '../../../../../engine/command/archive-push/push-async.js';
import { runCommand } from '../../../../../engine/command/run.js';
import { log, type LogRecord } from '../../../../../engine/log/logger.js';
import { acquireLock } from '../../../../../engine/repo/lock/lock.js';
import { ArchiveWorld, SEGMENTS } from './world.js';

let world: ArchiveWorld;
let records: LogRecord[];
let unsubscribe: () => void;
const savedTmp = process.env.TMPDIR;
const wal = () => join(world.walDir, SEGMENTS[0]);

beforeEach(async () => {
  world = new ArchiveWorld({ 'archive-timeout': 1 });
  await world.createStanza();
  world.segment(SEGMENTS[0]);
  process.env.TMPDIR = world.root;
  records = [];
  unsubscribe = log.subscribe((record) => records.push(record));
  log.configure({ console: 'off', stderr: 'off', file: 'off', timestamp: false, processId: 0 });
});
afterEach(() => {
  unsubscribe();
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  world.destroy();
});

describe('archive-push --archive-async, the foreground', () => {
  // First in the file: no CLI invocation is recorded yet (as in the service), so no descriptor either.
  it('prints the warning an .ok carries (a dropped file)', async () => {
    mkdirSync(world.outDir, { recursive: true });
    writeFileSync(join(world.outDir, `${SEGMENTS[0]}.ok`), '0\ndropped WAL file');
    expect(await pushAsync(world.config('archive-push', [wal()]), wal())).toBe(0);
    expect(records).toContainEqual(expect.objectContaining({ level: 'warn', message: 'dropped WAL file' }));
    expect(existsSync(fastPathFile('main'))).toBe(false);
  });

  it('succeeds as soon as the .ok is there, and refreshes the fast path descriptor', async () => {
    mkdirSync(world.outDir, { recursive: true });
    writeFileSync(join(world.outDir, `${SEGMENTS[0]}.ok`), '');
    const argv = [`--config=${world.configPath}`, '--stanza=main', 'archive-push', `pg_wal/${SEGMENTS[0]}`];
    recordInvocation(argv, {});
    expect(await pushAsync(world.config('archive-push', [`pg_wal/${SEGMENTS[0]}`]), wal())).toBe(0);
    expect(records.map((record) => record.message)).toContain(`pushed WAL file '${SEGMENTS[0]}' to the archive asynchronously`);
    expect(readFileSync(fastPathFile('main'), 'utf8')).toContain(`\nout ${world.outDir}\n`);
  });

  it('writes no descriptor for arguments the shell could not match (the WAL path not last)', async () => {
    mkdirSync(world.outDir, { recursive: true });
    writeFileSync(join(world.outDir, `${SEGMENTS[0]}.ok`), '');
    recordInvocation(['--stanza=main', 'archive-push', wal(), '--log-level-console=info'], {});
    log.configure(
      { console: 'debug', stderr: 'off', file: 'off', timestamp: false, processId: 0 },
      { stdout: () => {}, stderr: () => {} },
    );
    expect(await pushAsync(world.config('archive-push', [wal()]), wal())).toBe(0);
    expect(records.map((record) => record.message)).toContain('no fast path descriptor written for this invocation');
    expect(existsSync(fastPathFile('main'))).toBe(false);
  });

  it('reports an .error once a background process had its chance: code and message as written', async () => {
    mkdirSync(world.outDir, { recursive: true });
    writeFileSync(join(world.outDir, `${SEGMENTS[0]}.error`), '45\nWAL file already exists with a different checksum');
    // A background process runs (it holds the lock) and does not clear the error: reported on the second look.
    const held = await acquireLock({ lockPath: world.lockPath, stanza: 'main', type: 'archive' });
    try {
      // (not ArchiveTimeout: reported at the second look, well within archive-timeout)
      await expect(pushAsync(world.config('archive-push', [wal()]), wal())).rejects.toMatchObject({
        errorName: 'ArchiveDuplicate',
        code: 45,
        message: 'WAL file already exists with a different checksum',
      });
    } finally {
      await held.release();
    }
  });

  it('starts the background process when none runs (clearing old errors), replaces one that dies, and times out with a pointer to its log', async () => {
    mkdirSync(world.outDir, { recursive: true });
    writeFileSync(join(world.outDir, `${SEGMENTS[0]}.error`), '45\nold error');
    writeFileSync(join(world.outDir, 'global.error'), '62\nold global error');
    // The background entry is not built here (unit tests run the TypeScript): the process it starts
    // fails at once, so nothing answers and the foreground gives up after archive-timeout.
    const started = Date.now();
    await expect(pushAsync(world.config('archive-push', [wal()]), wal())).rejects.toMatchObject({
      errorName: 'ArchiveTimeout',
      message: `unable to push WAL file '${SEGMENTS[0]}' to the archive asynchronously after 1 second(s)`,
      hint: `check '${join(world.logPath, 'main-archive-push-async.log')}' for errors`,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(existsSync(join(world.outDir, `${SEGMENTS[0]}.error`))).toBe(false);
    expect(existsSync(join(world.outDir, 'global.error'))).toBe(false);
    // each one died at once: replaced (5 starts in all), then the call waits out its time
    const starts = records.filter(
      (record) => record.message === `started the asynchronous archive-push process for ${SEGMENTS[0]}`,
    );
    // (five at most; fewer when the machine is slow to start Node: at least one replacement)
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts.length).toBeLessThanOrEqual(5);
  });

  it('needs pg1-path, and a lock path it can use', async () => {
    writeFileSync(world.configPath, `[global]\nrepo1-path=${world.repoPath}\nlock-path=${world.lockPath}\narchive-async=y\n`);
    const noPg = world.config('archive-push', [wal()]);
    await expect(pushAsync(noPg, wal())).rejects.toMatchObject({
      errorName: 'OptionRequired',
      message: "'archive-push' command in async mode requires option 'pg1-path'",
    });
    world.writeConfig();
    writeFileSync(join(world.root, 'not-a-dir'), '');
    const badLock = world.config('archive-push', [`--lock-path=${join(world.root, 'not-a-dir', 'lock')}`, wal()]);
    await expect(pushAsync(badLock, wal())).rejects.toMatchObject({ errorName: 'LockAcquire' });
  });
});

describe('archive-push through the command', () => {
  it('synchronous without pg1-path checks the segment against the stanza only', async () => {
    writeFileSync(world.configPath, `[global]\nrepo1-path=${world.repoPath}\nlock-path=${world.lockPath}\ncompress-type=lz4\n`);
    const args = [`--config=${world.configPath}`, '--stanza=main', 'archive-push', wal()];
    expect(await runCommand(args, { sink: { stdout: () => {}, stderr: () => {} }, env: {}, uid: 1000 })).toBe(0);
    expect(existsSync(join(world.repoPath, 'archive', 'main', '15-1', '0000000100000000'))).toBe(true);
  });

  it('with archive-async goes to the foreground above; stopped, it fails before anything', async () => {
    mkdirSync(world.outDir, { recursive: true });
    writeFileSync(join(world.outDir, `${SEGMENTS[0]}.ok`), '');
    const sink = { stdout: () => {}, stderr: () => {} };
    const args = [`--config=${world.configPath}`, '--stanza=main', 'archive-push', wal()];
    expect(await runCommand(args, { sink, env: {}, uid: 1000 })).toBe(0);
    writeFileSync(join(world.lockPath, 'main.stop'), '');
    expect(await runCommand(args, { sink, env: {}, uid: 1000 })).toBe(62);
  });

  it('synchronous, drops the file over archive-push-queue-max with a warning and succeeds', async () => {
    world.writeConfig({ 'archive-async': 'n', 'archive-push-queue-max': 1024 });
    const args = [`--config=${world.configPath}`, '--stanza=main', 'archive-push', wal()];
    const lines: string[] = [];
    expect(await runCommand(args, { sink: { stdout: () => {}, stderr: (text) => lines.push(text) }, env: {}, uid: 1000 })).toBe(
      0,
    );
    expect(lines.join('')).toContain(`WARN: dropped WAL file '${SEGMENTS[0]}' because archive queue exceeded 1KB`);
    expect(existsSync(join(world.repoPath, 'archive', 'main', '15-1', '0000000100000000'))).toBe(false);
  });

  it('synchronous, pushes and warns when the segment is already there', async () => {
    world.writeConfig({ 'archive-async': 'n' });
    const args = [`--config=${world.configPath}`, '--stanza=main', 'archive-push', wal()];
    const lines: string[] = [];
    const sink = { stdout: () => {}, stderr: (text: string) => lines.push(text) };
    expect(await runCommand(args, { sink, env: {}, uid: 1000 })).toBe(0);
    expect(lines).toEqual([]);
    expect(await runCommand(args, { sink, env: {}, uid: 1000 })).toBe(0);
    expect(lines.join('')).toContain(
      `WARN: WAL file '${SEGMENTS[0]}' already exists in the repo1 archive with the same checksum`,
    );
  });
});
