import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';

import { afterAll, describe, expect, inject, it } from 'vitest';

import { PgkeepError } from '../../../engine/error/pgkeep-error.js';
import {
  acquireLock,
  checkNotStopped,
  createStopFile,
  readLock,
  removeStopFile,
  stopFileExists,
} from '../../../engine/repo/lock/lock.js';
import { osUser } from '../../harness/os-user.js';
import { run } from '../../harness/run.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

/**
 * A child process that takes stanza locks with the built engine (as staged for the tests) and
 * answers one JSON line per command on its standard input.
 */
const childScript = `
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
const { acquireLock } = await import(process.argv[2]);
const lockPath = process.argv[3];
let lock;
const say = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
say({ ready: process.pid });
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line);
  try {
    if (command.op === 'acquire') {
      lock = await acquireLock({ lockPath, stanza: 'main', type: command.type ?? 'backup', timeoutMs: command.timeoutMs });
      say({ acquired: true, execId: lock.execId });
    } else if (command.op === 'release') {
      await lock.release();
      say({ released: true });
    } else if (command.op === 'loop') {
      // Take the lock again and again, writing to a shared file while holding it.
      for (let round = 0; round < command.rounds; round++) {
        const held = await acquireLock({ lockPath, stanza: 'main', type: 'backup', timeoutMs: 60000 });
        appendFileSync(command.log, 'in ' + process.pid + '\\n');
        await new Promise((resolve) => setTimeout(resolve, 1));
        appendFileSync(command.log, 'out ' + process.pid + '\\n');
        await held.release();
      }
      say({ looped: true });
    }
  } catch (error) {
    say({ acquired: false, errorName: error.errorName, message: error.message });
  }
}
`;

interface Answer {
  readonly ready?: number;
  readonly acquired?: boolean;
  readonly execId?: string;
  readonly errorName?: string;
  readonly message?: string;
  readonly released?: boolean;
  readonly looped?: boolean;
}

class LockChild {
  readonly process: ChildProcess;
  private readonly lines: Interface;
  private readonly pending: Answer[] = [];
  private waiting: ((answer: Answer) => void) | undefined;

  constructor(script: string, lockModule: string, lockPath: string) {
    this.process = spawn(process.execPath, [script, lockModule, lockPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.process.stdout! });
    this.lines.on('line', (line) => {
      const answer = JSON.parse(line) as Answer;
      if (this.waiting === undefined) this.pending.push(answer);
      else {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(answer);
      }
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  next(): Promise<Answer> {
    const answer = this.pending.shift();
    if (answer !== undefined) return Promise.resolve(answer);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  send(command: Record<string, unknown>): void {
    this.process.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  async ask(command: Record<string, unknown>): Promise<Answer> {
    this.send(command);
    return this.next();
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = once(this.process, 'exit');
    this.process.kill(signal);
    await exited;
  }
}

describe('stanza locks between processes', () => {
  const dir = tempDir('lock-processes');
  const script = join(dir, 'lock-child.mjs');
  writeFileSync(script, childScript);
  const lockModule = join(dirname(inject('pgkeepBin')), 'dist', 'engine', 'repo', 'lock', 'lock.js');
  const children: LockChild[] = [];
  let round = 0;

  const start = async (lockPath: string): Promise<LockChild> => {
    const child = new LockChild(script, lockModule, lockPath);
    children.push(child);
    expect((await child.next()).ready).toBe(child.pid);
    return child;
  };

  afterAll(async () => {
    for (const child of children) await child.kill('SIGKILL');
    removeDir(dir);
  });

  it('lets exactly one of two racing processes take the lock', async () => {
    expect(existsSync(lockModule)).toBe(true);
    for (let attempt = 0; attempt < 5; attempt++) {
      const lockPath = join(dir, `race-${round++}`);
      const [first, second] = await Promise.all([start(lockPath), start(lockPath)]);
      // Both are ready and waiting on their standard input: the two acquisitions start together.
      first!.send({ op: 'acquire' });
      second!.send({ op: 'acquire' });
      const answers = await Promise.all([first!.next(), second!.next()]);
      const winner = answers[0]!.acquired === true ? first! : second!;
      const loser = answers.find((answer) => answer.acquired !== true)!;
      expect(answers.filter((answer) => answer.acquired === true)).toHaveLength(1);
      expect(loser.errorName).toBe('LockAcquire');
      expect(loser.message).toBe(
        `unable to acquire lock on file '${join(lockPath, 'main-backup.lock')}': held by process ${winner.pid}`,
      );
      const state = await readLock(lockPath, 'main', 'backup');
      expect(state).toMatchObject({ status: 'held', alive: true, content: { pid: winner.pid } });
      expect(await winner.ask({ op: 'release' })).toEqual({ released: true });
      expect(readdirSync(lockPath)).toEqual([]);
      await Promise.all([first!.kill(), second!.kill()]);
    }
  });

  it('keeps four processes that take the lock in turns from ever holding it together', async () => {
    const lockPath = join(dir, `turns-${round++}`);
    const log = join(dir, `turns-${round}.log`);
    const workers = await Promise.all([start(lockPath), start(lockPath), start(lockPath), start(lockPath)]);
    const done = await Promise.all(workers.map((worker) => worker.ask({ op: 'loop', rounds: 25, log })));
    expect(done.every((answer) => answer.looped === true)).toBe(true);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4 * 25 * 2);
    for (let index = 0; index < lines.length; index += 2) {
      // Every "in" is followed by the same process's "out": no overlap.
      expect([lines[index]!.split(' ')[0], lines[index + 1]]).toEqual(['in', lines[index]!.replace('in', 'out')]);
    }
    expect(readdirSync(lockPath)).toEqual([]);
    await Promise.all(workers.map((worker) => worker.kill()));
  });

  it('takes over the lock of a process killed with SIGKILL', async () => {
    const lockPath = join(dir, `stale-${round++}`);
    const holder = await start(lockPath);
    const held = await holder.ask({ op: 'acquire', type: 'all' });
    expect(held.acquired).toBe(true);
    const waiter = await start(lockPath);
    expect(await waiter.ask({ op: 'acquire' })).toMatchObject({ acquired: false, errorName: 'LockAcquire' });

    await holder.kill('SIGKILL');
    // The files stay behind, naming a process that is gone.
    expect(readdirSync(lockPath).sort()).toEqual(['main-archive.lock', 'main-backup.lock']);
    expect(await readLock(lockPath, 'main', 'backup')).toMatchObject({
      status: 'stale',
      alive: false,
      content: { pid: holder.pid },
    });

    const taken = await waiter.ask({ op: 'acquire', type: 'all' });
    expect(taken.acquired).toBe(true);
    expect((await readLock(lockPath, 'main', 'archive')).content).toEqual({ execId: taken.execId, pid: waiter.pid });
    expect((await readLock(lockPath, 'main', 'backup')).content).toEqual({ execId: taken.execId, pid: waiter.pid });
    await waiter.ask({ op: 'release' });
    expect(readdirSync(lockPath)).toEqual([]);
  });

  it('waits for a lock that another process releases', async () => {
    const lockPath = join(dir, `wait-${round++}`);
    const [holder, waiter] = await Promise.all([start(lockPath), start(lockPath)]);
    expect((await holder.ask({ op: 'acquire' })).acquired).toBe(true);
    waiter.send({ op: 'acquire', timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await holder.ask({ op: 'release' });
    expect((await waiter.next()).acquired).toBe(true);
    await waiter.ask({ op: 'release' });
  });
});

describe('locks and stop files of the real pgbackrest', () => {
  const dir = tempDir('lock-pgbackrest');
  const postgres = osUser('postgres');
  let server: Server | undefined;
  let pgbackrest: ChildProcess | undefined;

  afterAll(async () => {
    if (pgbackrest !== undefined && pgbackrest.exitCode === null && pgbackrest.signalCode === null) pgbackrest.kill('SIGKILL');
    server?.close();
    removeDir(dir);
  });

  const options = (stanza: string): string[] => [
    `--stanza=${stanza}`,
    `--lock-path=${join(dir, 'lock')}`,
    `--repo1-path=${join(dir, 'repo')}`,
    `--pg1-path=${join(dir, 'data')}`,
    `--pg1-socket-path=${join(dir, 'socket')}`,
    '--log-level-console=error',
    '--log-level-stderr=error',
    '--log-level-file=off',
  ];

  it('sees a lock that pgbackrest holds, and takes it over once pgbackrest is killed', async () => {
    // stanza-create takes both locks and then connects to PostgreSQL; this "PostgreSQL" accepts
    // the connection and never answers, so pgbackrest holds its locks until it is killed.
    for (const sub of ['socket', 'data', 'repo']) mkdirSync(join(dir, sub), { mode: 0o700 });
    await run('chown', ['-R', `${postgres.uid}:${postgres.gid}`, dir]);
    const socket = join(dir, 'socket', '.s.PGSQL.5432');
    server = createServer(() => undefined);
    server.listen(socket);
    await once(server, 'listening');
    chmodSync(socket, 0o777);

    pgbackrest = spawn('pgbackrest', [...options('main'), 'stanza-create'], {
      uid: postgres.uid,
      gid: postgres.gid,
      env: { ...process.env, HOME: postgres.home },
      stdio: 'ignore',
    });
    const lockPath = join(dir, 'lock');
    for (let tries = 0; tries < 200 && (await readLock(lockPath, 'main', 'backup')).status !== 'held'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const state = await readLock(lockPath, 'main', 'backup');
    expect(state.status).toBe('held');
    expect(state.content!.pid).toBe(pgbackrest.pid);
    expect(state.content!.execId).toMatch(new RegExp(`^${pgbackrest.pid}-[0-9a-f]{8}$`));

    for (const type of ['backup', 'archive', 'all'] as const) {
      const error = await acquireLock({ lockPath, stanza: 'main', type }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PgkeepError);
      expect((error as PgkeepError).errorName).toBe('LockAcquire');
      expect((error as PgkeepError).message).toMatch(new RegExp(`held by process ${pgbackrest.pid}$`));
    }

    const exited = once(pgbackrest, 'exit');
    pgbackrest.kill('SIGKILL');
    await exited;
    expect(readdirSync(lockPath).sort()).toEqual(['main-archive.lock', 'main-backup.lock']);
    expect((await readLock(lockPath, 'main', 'archive')).status).toBe('stale');

    const lock = await acquireLock({ lockPath, stanza: 'main', type: 'all' });
    expect((await readLock(lockPath, 'main', 'archive')).content).toEqual({ execId: lock.execId, pid: process.pid });
    await lock.release();
    expect(readdirSync(lockPath)).toEqual([]);
  });

  it('shares stop files with pgbackrest both ways', async () => {
    const lockPath = join(dir, 'lock');
    // stop and start take only the lock path (and the stanza).
    const control = (command: string, stanza?: string) =>
      run(
        'pgbackrest',
        [
          ...(stanza === undefined ? [] : [`--stanza=${stanza}`]),
          `--lock-path=${lockPath}`,
          '--log-level-console=error',
          '--log-level-file=off',
          command,
        ],
        { user: postgres },
      );
    await control('stop', 'main');
    expect(await stopFileExists(lockPath, 'main')).toBe(true);
    await expect(checkNotStopped(lockPath, 'main')).rejects.toThrow('stop file exists for stanza main');
    await control('start', 'main');
    expect(await stopFileExists(lockPath, 'main')).toBe(false);

    // pgbackrest honours the stop files pgkeep writes.
    expect(await createStopFile(lockPath, 'other')).toBe(true);
    const stopped = await run('pgbackrest', [...options('other'), 'stanza-create'], { user: postgres, check: false });
    expect(stopped.code).toBe(62);
    expect(stopped.stderr).toContain('stop file exists for stanza other');
    await removeStopFile(lockPath, 'other');

    expect(await createStopFile(lockPath)).toBe(true);
    const all = await run('pgbackrest', [...options('other'), 'stanza-create'], { user: postgres, check: false });
    expect(all.code).toBe(62);
    expect(all.stderr).toContain('stop file exists for all stanzas');
    // And `pgbackrest start` (without a stanza) removes pgkeep's all.stop.
    await control('start');
    expect(await stopFileExists(lockPath)).toBe(false);
  });
});
