import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import { log, type LogRecord } from '../../../../../engine/log/logger.js';
import { setFlockProgram } from '../../../../../engine/repo/lock/flock.js';
import { acquireLock, lockFilePath } from '../../../../../engine/repo/lock/lock.js';

/**
 * pgbackrest looks only at flock(): a pgkeep lock must be flock()ed while it is held, as seen by
 * another process (util-linux's flock(1), as pgbackrest's own flock() call would see it).
 */
let dir: string;
let lockPath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-flock-'));
  lockPath = join(dir, 'lock');
  setFlockProgram(null);
});
afterEach(() => {
  setFlockProgram(null);
  rmSync(dir, { recursive: true, force: true });
});

/** Whether another process can flock() the file now (flock -n exits 1 when it cannot). */
function lockableByOthers(path: string): boolean {
  const result = spawnSync('flock', ['--nonblock', '--exclusive', path, 'true']);
  if (result.status !== 0 && result.status !== 1) throw new Error(`flock failed: ${result.stderr.toString()}`);
  return result.status === 0;
}

/** A stand-in for flock(1) that answers as a script says (the race pgbackrest can win, a broken flock). */
function fakeFlock(script: string): string {
  const path = join(dir, 'flock');
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function captureLog<T>(body: () => Promise<T>): Promise<{ value: T; records: LogRecord[] }> {
  const records: LogRecord[] = [];
  const stop = log.subscribe((record) => records.push(record));
  try {
    return { value: await body(), records };
  } finally {
    stop();
  }
}

describe('pgkeep locks are flock()ed for pgbackrest', () => {
  it('while held, no other process can flock() the lock files; released, they are gone', async () => {
    const lock = await acquireLock({ lockPath, stanza: 'main', type: 'all' });
    for (const type of ['archive', 'backup'] as const) expect(lockableByOthers(lockFilePath(lockPath, 'main', type))).toBe(false);
    await lock.release();
    for (const type of ['archive', 'backup'] as const) expect(existsSync(lockFilePath(lockPath, 'main', type))).toBe(false);
  });

  it('progress is written into the same file, so the flock() stays on it', async () => {
    const lock = await acquireLock({ lockPath, stanza: 'main', type: 'backup', progress: { pctCplt: 0 } });
    const path = lockFilePath(lockPath, 'main', 'backup');
    const inode = statSync(path).ino;
    await lock.update({ pctCplt: 12345, size: 1_000_000, sizeCplt: 123_450 });
    await lock.update({ pctCplt: 5, size: 1_000_000, sizeCplt: 500 }); // shorter: the old tail is cut
    expect(statSync(path).ino).toBe(inode);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      execId: lock.execId,
      pctCplt: 5,
      pid: process.pid,
      size: 1_000_000,
      sizeCplt: 500,
    });
    expect(lockableByOthers(path)).toBe(false);
    await lock.release();
  });

  it('when pgbackrest locks the new file first, the lock is refused and the file left to it', async () => {
    setFlockProgram(fakeFlock('exit 75'));
    const error = await acquireLock({ lockPath, stanza: 'main', type: 'backup' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PgkeepError);
    expect(error).toMatchObject({
      errorName: 'LockAcquire',
      message: `unable to acquire lock on file '${lockFilePath(lockPath, 'main', 'backup')}': held by another process`,
      hint: 'is another pgkeep or pgbackrest process running?',
    });
    expect(existsSync(lockFilePath(lockPath, 'main', 'backup'))).toBe(true);
  });

  it('without a working flock(1) the lock is still taken (pgkeep to pgkeep), with a warning when flock fails', async () => {
    setFlockProgram(undefined);
    const quiet = await captureLog(() => acquireLock({ lockPath, stanza: 'main', type: 'backup' }));
    expect(quiet.records.filter((record) => record.level === 'warn')).toEqual([]);
    expect(lockableByOthers(lockFilePath(lockPath, 'main', 'backup'))).toBe(true);
    await quiet.value.release();

    setFlockProgram(fakeFlock('echo "flock: bad descriptor" >&2; exit 64'));
    const broken = await captureLog(() => acquireLock({ lockPath, stanza: 'main', type: 'backup' }));
    expect(broken.records.map((record) => `${record.level}: ${record.message}`)).toEqual([
      `warn: unable to flock() lock file '${lockFilePath(lockPath, 'main', 'backup')}' for pgbackrest: flock exited with 64: flock: bad descriptor`,
    ]);
    await broken.value.release();
    expect(existsSync(lockFilePath(lockPath, 'main', 'backup'))).toBe(false);

    setFlockProgram(join(dir, 'no-such-flock'));
    const missing = await captureLog(() => acquireLock({ lockPath, stanza: 'main', type: 'backup' }));
    expect(missing.records.map((record) => record.message)).toEqual([
      expect.stringMatching(/^unable to flock\(\) lock file '.*' for pgbackrest: spawn .*no-such-flock ENOENT$/),
    ]);
    await missing.value.release();
  });
});
