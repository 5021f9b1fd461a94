import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import { log, type LogRecord } from '../../../../../engine/log/logger.js';
import {
  acquireLock,
  checkNotStopped,
  createStopFile,
  INVALID_LOCK_GRACE_MS,
  inspectLockFile,
  lockFilePath,
  lockText,
  newExecId,
  parseLock,
  readLock,
  removeStaleLockFile,
  removeStopFile,
  stopFileExists,
  stopFilePath,
} from '../../../../../engine/repo/lock/lock.js';
import { isProcessAlive } from '../../../../../engine/repo/lock/process-alive.js';

let dir: string;
let lockPath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-lock-'));
  lockPath = join(dir, 'lock');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<PgkeepError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PgkeepError);
    return error as PgkeepError;
  }
  throw new Error('expected a rejection');
}

/** The pid of a process that has ended (and been reaped). */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$']);
  return Number(child.stdout.toString().trim());
}

function captureLog(): { records: LogRecord[]; stop: () => void } {
  const records: LogRecord[] = [];
  return { records, stop: log.subscribe((record) => records.push(record)) };
}

describe('lock file names and content', () => {
  it('lays files out as pgBackRest does', () => {
    expect(lockFilePath('/tmp/pgbackrest', 'main', 'backup')).toBe('/tmp/pgbackrest/main-backup.lock');
    expect(lockFilePath('/tmp/pgbackrest', 'main', 'archive')).toBe('/tmp/pgbackrest/main-archive.lock');
    expect(stopFilePath('/tmp/pgbackrest', 'main')).toBe('/tmp/pgbackrest/main.stop');
    expect(stopFilePath('/tmp/pgbackrest')).toBe('/tmp/pgbackrest/all.stop');
  });

  it('refuses stanza names that would leave the lock path', () => {
    for (const stanza of ['', '../x', 'a/b', '.', '..']) {
      expect(() => lockFilePath('/l', stanza, 'backup')).toThrow(PgkeepError);
    }
    expect(() => stopFilePath('/l', '../etc')).toThrow("stanza name '../etc' is not valid for a lock or stop file");
  });

  it('writes compact JSON with sorted keys, keeping exec id and pid over the progress', () => {
    expect(lockText('24823-9099b1a9', 24823)).toBe('{"execId":"24823-9099b1a9","pid":24823}');
    expect(lockText('24823-9099b1a9', 24823, { pctCplt: 9999 })).toBe('{"execId":"24823-9099b1a9","pctCplt":9999,"pid":24823}');
    expect(lockText('1-00000000', 1, { size: 10, sizeCplt: 5, pctCplt: 5000, pid: 7, execId: 'x' })).toBe(
      '{"execId":"1-00000000","pctCplt":5000,"pid":1,"size":10,"sizeCplt":5}',
    );
    expect(newExecId()).toMatch(new RegExp(`^${process.pid}-[0-9a-f]{8}$`));
    expect(newExecId(42)).toMatch(/^42-[0-9a-f]{8}$/);
  });

  it('parses lock content and rejects anything else', () => {
    expect(parseLock('{"execId":"24823-9099b1a9","pctCplt":0,"pid":24823}')).toEqual({
      execId: '24823-9099b1a9',
      pctCplt: 0,
      pid: 24823,
    });
    for (const text of [
      '',
      '{',
      'null',
      '[]',
      '"x"',
      '{"pid":1}',
      '{"execId":"x"}',
      '{"execId":"x","pid":0}',
      '{"execId":1,"pid":1}',
    ]) {
      expect(parseLock(text)).toBeUndefined();
    }
  });
});

describe('acquireLock', () => {
  it('creates the lock path (0770) and the lock file (0640) with its content, and deletes it on release', async () => {
    const lock = await acquireLock({ lockPath, stanza: 'main', type: 'backup' });
    const path = join(lockPath, 'main-backup.lock');
    expect(lock.files).toEqual([path]);
    expect(lock.type).toBe('backup');
    expect(readFileSync(path, 'utf8')).toBe(`{"execId":"${lock.execId}","pid":${process.pid}}`);
    expect(statSync(lockPath).mode & 0o777).toBe(0o770);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    await lock.release();
    expect(readdirSync(lockPath)).toEqual([]);
    await lock.release();
    await expect(lock.update({ pctCplt: 1 })).rejects.toThrow('is already released');
  });

  it('fails with LockAcquire naming the file and the holder while a live process holds it', async () => {
    const lock = await acquireLock({ lockPath, stanza: 'main', type: 'archive', execId: 'given-exec-id' });
    expect(lock.execId).toBe('given-exec-id');
    const error = await failure(acquireLock({ lockPath, stanza: 'main', type: 'archive' }));
    expect(error.errorName).toBe('LockAcquire');
    expect(error.code).toBe(50);
    expect(error.message).toBe(
      `unable to acquire lock on file '${join(lockPath, 'main-archive.lock')}': held by process ${process.pid}`,
    );
    expect(error.hint).toBe(
      `is another pgkeep or pgbackrest process running? wait for process ${process.pid} to finish, or stop it`,
    );
    // Other stanzas and the other lock type are free.
    const other = await acquireLock({ lockPath, stanza: 'other', type: 'archive' });
    const backup = await acquireLock({ lockPath, stanza: 'main', type: 'backup' });
    await Promise.all([lock.release(), other.release(), backup.release()]);
    expect(readdirSync(lockPath)).toEqual([]);
  });

  it('shares a lock with the same exec id, and only its creator deletes it', async () => {
    const owner = await acquireLock({ lockPath, stanza: 'main', type: 'backup', progress: { pctCplt: 0 } });
    const worker = await acquireLock({ lockPath, stanza: 'main', type: 'backup', execId: owner.execId });
    expect(worker.files).toEqual([]);
    await worker.update({ pctCplt: 100 }); // writes nothing: the creator reports progress
    await worker.release();
    expect((await readLock(lockPath, 'main', 'backup')).content).toEqual({ execId: owner.execId, pctCplt: 0, pid: process.pid });
    await owner.release();
    expect((await readLock(lockPath, 'main', 'backup')).status).toBe('missing');
  });

  it('takes both files for type all, and gives the first back when the second is held', async () => {
    const all = await acquireLock({ lockPath, stanza: 'main', type: 'all' });
    expect(all.files).toEqual([join(lockPath, 'main-archive.lock'), join(lockPath, 'main-backup.lock')]);
    await all.release();

    const backup = await acquireLock({ lockPath, stanza: 'main', type: 'backup' });
    const error = await failure(acquireLock({ lockPath, stanza: 'main', type: 'all' }));
    expect(error.message).toContain('main-backup.lock');
    expect(readdirSync(lockPath)).toEqual(['main-backup.lock']);
    await backup.release();
  });

  it('rewrites progress atomically into the backup lock, and others read it with the holder alive', async () => {
    const lock = await acquireLock({ lockPath, stanza: 'main', type: 'all', progress: { pctCplt: 0 } });
    await lock.update({ pctCplt: 2500, sizeCplt: 250, size: 1000 });
    const state = await readLock(lockPath, 'main', 'backup');
    expect(state).toEqual({
      path: join(lockPath, 'main-backup.lock'),
      status: 'held',
      alive: true,
      content: { execId: lock.execId, pctCplt: 2500, pid: process.pid, size: 1000, sizeCplt: 250 },
    });
    expect(readFileSync(join(lockPath, 'main-backup.lock'), 'utf8')).toBe(
      `{"execId":"${lock.execId}","pctCplt":2500,"pid":${process.pid},"size":1000,"sizeCplt":250}`,
    );
    expect((await readLock(lockPath, 'main', 'archive')).content).toEqual({ execId: lock.execId, pctCplt: 0, pid: process.pid });
    expect(readdirSync(lockPath).sort()).toEqual(['main-archive.lock', 'main-backup.lock']);
    await lock.release();

    const archive = await acquireLock({ lockPath, stanza: 'main', type: 'archive' });
    await archive.update({ pctCplt: 1 });
    expect((await readLock(lockPath, 'main', 'archive')).content!.pctCplt).toBe(1);
    await archive.release();
  });

  it('fails the update with a storage error when the lock path is gone', async () => {
    const lock = await acquireLock({ lockPath, stanza: 'main', type: 'backup' });
    rmSync(lockPath, { recursive: true });
    const error = await failure(lock.update({ pctCplt: 1 }));
    expect(error.errorName).toBe('FileMissing');
    await lock.release(); // the file is gone already: nothing to do
  });

  it('takes over a lock whose process is gone', async () => {
    mkdirSync(lockPath);
    const pid = deadPid();
    writeFileSync(join(lockPath, 'main-backup.lock'), `{"execId":"${pid}-deadbeef","pid":${pid}}`);
    expect(await readLock(lockPath, 'main', 'backup')).toMatchObject({ status: 'stale', alive: false });
    const logged = captureLog();
    const lock = await acquireLock({ lockPath, stanza: 'main', type: 'backup' });
    logged.stop();
    expect(readFileSync(join(lockPath, 'main-backup.lock'), 'utf8')).toContain(lock.execId);
    expect(logged.records.map((record) => record.message)).toContain(
      `removed stale lock file '${join(lockPath, 'main-backup.lock')}' (process ${pid} is not running)`,
    );
    expect(readdirSync(lockPath)).toEqual(['main-backup.lock']);
    await lock.release();
  });

  it('treats unreadable content as held while it is fresh and as stale once old', async () => {
    mkdirSync(lockPath);
    const path = join(lockPath, 'main-archive.lock');
    writeFileSync(path, '');
    expect((await readLock(lockPath, 'main', 'archive')).status).toBe('invalid');
    const error = await failure(acquireLock({ lockPath, stanza: 'main', type: 'archive' }));
    expect(error.message).toBe(`unable to acquire lock on file '${path}': held by another process (content not yet written)`);
    const old = (Date.now() - INVALID_LOCK_GRACE_MS - 2000) / 1000;
    utimesSync(path, old, old);
    const lock = await acquireLock({ lockPath, stanza: 'main', type: 'archive' });
    expect(parseLock(readFileSync(path, 'utf8'))!.execId).toBe(lock.execId);
    await lock.release();
  });

  it('looks again at a lock file whose content is still being written', async () => {
    mkdirSync(lockPath);
    const path = join(lockPath, 'main-backup.lock');
    writeFileSync(path, '');
    setTimeout(() => writeFileSync(path, lockText('1-00000000', 1)), 50);
    const error = await failure(acquireLock({ lockPath, stanza: 'main', type: 'backup' }));
    expect(error.message).toBe(`unable to acquire lock on file '${path}': held by process 1`);
  });

  it('waits up to timeoutMs for the holder to release', async () => {
    const first = await acquireLock({ lockPath, stanza: 'main', type: 'backup' });
    setTimeout(() => void first.release(), 250);
    const started = Date.now();
    const second = await acquireLock({ lockPath, stanza: 'main', type: 'backup', timeoutMs: 5000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    await second.release();
    const held = await acquireLock({ lockPath, stanza: 'main', type: 'backup' });
    await expect(acquireLock({ lockPath, stanza: 'main', type: 'backup', timeoutMs: 150 })).rejects.toThrow('held by process');
    await held.release();
  });

  it('leaves a lock file in place on release when another process took it over', async () => {
    const lock = await acquireLock({ lockPath, stanza: 'main', type: 'backup' });
    const path = join(lockPath, 'main-backup.lock');
    writeFileSync(path, '{"execId":"1-00000000","pid":1}');
    const logged = captureLog();
    await lock.release();
    logged.stop();
    expect(existsSync(path)).toBe(true);
    expect(logged.records[0]!.message).toBe(
      `lock file '${path}' no longer belongs to this process (exec id ${lock.execId}): left in place`,
    );
  });

  it('reports a lock path it cannot use', async () => {
    writeFileSync(join(dir, 'file'), '');
    for (const bad of [join(dir, 'file'), join(dir, 'file', 'lock')]) {
      const error = await failure(acquireLock({ lockPath: bad, stanza: 'main', type: 'backup' }));
      expect(error.errorName).toBe('LockAcquire');
      expect(error.message).toBe(`unable to acquire lock on file '${join(bad, 'main-backup.lock')}': not a directory`);
    }
  });
});

describe('lock contention within one process', () => {
  it('lets one holder at a time through, however the attempts interleave', async () => {
    let holders = 0;
    let most = 0;
    let turns = 0;
    const worker = async (): Promise<void> => {
      for (let round = 0; round < 15; round++) {
        const lock = await acquireLock({ lockPath, stanza: 'main', type: 'backup', timeoutMs: 20_000 });
        holders++;
        most = Math.max(most, holders);
        turns++;
        await new Promise((resolve) => setImmediate(resolve));
        holders--;
        await lock.release();
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect([most, turns]).toEqual([1, 60]);
    expect(readdirSync(lockPath)).toEqual([]);
  });
});

describe('stale lock removal', () => {
  it('removes the stale file it judged, and nothing else', async () => {
    mkdirSync(lockPath);
    const path = join(lockPath, 'main-backup.lock');
    writeFileSync(path, lockText('9-00000000', deadPid()));
    const seen = (await inspectLockFile(path))!;
    await removeStaleLockFile(path, seen);
    expect(readdirSync(lockPath)).toEqual([]);
    await removeStaleLockFile(path, seen); // already gone: nothing to do
  });

  it('puts back a lock another process created after the stale one was judged', async () => {
    mkdirSync(lockPath);
    const path = join(lockPath, 'main-backup.lock');
    writeFileSync(path, lockText('9-00000000', deadPid()));
    const seen = (await inspectLockFile(path))!;
    // Meanwhile another process removed the stale file and took the lock.
    rmSync(path);
    const fresh = lockText('1-11111111', 1);
    writeFileSync(path, fresh);
    await removeStaleLockFile(path, seen);
    expect(readFileSync(path, 'utf8')).toBe(fresh);
    expect(readdirSync(lockPath)).toEqual(['main-backup.lock']);
  });

  it('reports a lock file it cannot read', async () => {
    mkdirSync(join(lockPath, 'main-backup.lock'), { recursive: true });
    const error = await failure(acquireLock({ lockPath, stanza: 'main', type: 'backup' }));
    expect(error.errorName).toBe('LockAcquire');
    expect(error.message).toBe(
      `unable to acquire lock on file '${join(lockPath, 'main-backup.lock')}': illegal operation on a directory`,
    );
  });
});

describe('readLock', () => {
  it('reports missing, held, stale and invalid lock files', async () => {
    expect(await readLock(lockPath, 'main', 'backup')).toEqual({
      path: join(lockPath, 'main-backup.lock'),
      status: 'missing',
      alive: false,
    });
    mkdirSync(lockPath);
    writeFileSync(join(lockPath, 'main-backup.lock'), 'not json');
    expect(await readLock(lockPath, 'main', 'backup')).toMatchObject({ status: 'invalid', alive: false });
    writeFileSync(join(lockPath, 'main-backup.lock'), lockText('1-00000000', 1));
    expect(await readLock(lockPath, 'main', 'backup')).toMatchObject({ status: 'held', alive: true, content: { pid: 1 } });
  });
});

describe('isProcessAlive', () => {
  it('knows live, ended, invalid and zombie processes', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(1)).toBe(true); // init: EPERM when not root, still alive
    expect(isProcessAlive(deadPid())).toBe(false);
    expect(isProcessAlive(0)).toBe(false);
    expect(isProcessAlive(-1)).toBe(false);
    expect(isProcessAlive(1.5)).toBe(false);

    // `sleep 0` ends at once, but its parent (exec'd into `sleep 5`) never collects it: a zombie.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const zombie = Number((await new Promise<Buffer>((resolve) => parent.stdout.once('data', resolve))).toString().trim());
    try {
      for (let tries = 0; tries < 100 && readFileSync(`/proc/${zombie}/stat`, 'utf8').split(') ')[1]![0] !== 'Z'; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(isProcessAlive(zombie)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

describe('stop files', () => {
  it('creates, detects and removes stop files of a stanza and of all stanzas', async () => {
    expect(await stopFileExists(lockPath, 'main')).toBe(false);
    await checkNotStopped(lockPath, 'main');

    expect(await createStopFile(lockPath, 'main')).toBe(true);
    expect(await createStopFile(lockPath, 'main')).toBe(false);
    expect(readFileSync(join(lockPath, 'main.stop'), 'utf8')).toBe('');
    expect(statSync(lockPath).mode & 0o777).toBe(0o770);
    expect(await stopFileExists(lockPath, 'main')).toBe(true);
    expect(await stopFileExists(lockPath, 'other')).toBe(false);
    const stopped = await failure(checkNotStopped(lockPath, 'main'));
    expect([stopped.errorName, stopped.code, stopped.message, stopped.hint]).toEqual([
      'Stop',
      62,
      'stop file exists for stanza main',
      "run 'pgkeep start --stanza=main'",
    ]);
    await checkNotStopped(lockPath, 'other');

    expect(await createStopFile(lockPath)).toBe(true);
    const all = await failure(checkNotStopped(lockPath, 'other'));
    expect([all.message, all.hint]).toEqual(['stop file exists for all stanzas', "run 'pgkeep start'"]);
    await expect(checkNotStopped(lockPath)).rejects.toThrow('stop file exists for all stanzas');

    expect(await removeStopFile(lockPath, 'main')).toBe(true);
    expect(await removeStopFile(lockPath, 'main')).toBe(false);
    expect(await removeStopFile(lockPath)).toBe(true);
    await checkNotStopped(lockPath, 'main');
  });

  it('reports stop file errors with the path', async () => {
    writeFileSync(join(dir, 'file'), '');
    const base = join(dir, 'file');
    expect((await failure(stopFileExists(base, 'main'))).message).toBe(
      `unable to open '${join(base, 'main.stop')}' for read: not a directory`,
    );
    expect((await failure(createStopFile(base, 'main'))).errorName).toBe('FileOpen');
    expect((await failure(removeStopFile(base, 'main'))).errorName).toBe('FileRemove');
  });
});
