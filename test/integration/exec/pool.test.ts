import { spawn as spawnProcess, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { PgkeepError } from '../../../engine/error/pgkeep-error.js';
import { forkWorker } from '../../../engine/exec/fork-worker.js';
import { JobError } from '../../../engine/exec/job-error.js';
import type { Job } from '../../../engine/exec/job.js';
import { runJobs, type WorkerEvent } from '../../../engine/exec/pool.js';
import { log } from '../../../engine/log/logger.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

// Real worker processes running the built engine (node scripts/build.mjs) through a test entry.
const entry = new URL('./fixtures/worker-entry.mjs', import.meta.url);
const spawn = forkWorker(entry, { execArgv: [] });

log.configure({ console: 'off', stderr: 'off', file: 'off', timestamp: false, processId: 0 });

function job(key: string, size: number, handler: string, data: unknown = {}, queue: string | number = 0): Job {
  return { key, size, handler, queue, data };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a process still runs: a zombie (exited, not yet reaped by whoever adopted it) does not count. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function children(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim();
  return out === '' ? [] : out.split('\n').map((line) => Number(line.trim()));
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs}ms`);
    await sleep(10);
  }
}

describe('job pool with forked workers', () => {
  it('runs jobs in worker processes, largest first per queue, and leaves no process behind', async () => {
    const order: string[] = [];
    const pids = new Set<number>();
    const events: WorkerEvent[] = [];
    const sizes = [10, 1000, 100, 1, 10_000];
    const summary = await runJobs(
      sizes.map((size) => job(`file-${size}`, size, 'echo', { size })),
      {
        processMax: 1,
        pipeline: 1,
        spawn,
        onResult: (done, result: { pid: number; processId: number }) => {
          order.push(done.key);
          pids.add(result.pid);
          expect(result.processId).toBe(1);
        },
        onWorker: (event) => events.push(event),
      },
    );
    expect(summary).toEqual({ jobs: 5, attempts: 5, retries: 0, workersStarted: 1 });
    expect(order).toEqual(['file-10000', 'file-1000', 'file-100', 'file-10', 'file-1']);
    const [pid] = [...pids];
    expect(pid).not.toBe(process.pid);
    expect(events.map((event) => [event.type, event.pid, event.code ?? null])).toEqual([
      ['ready', pid, null],
      ['exit', pid, 0],
    ]);
    expect(running(pid!)).toBe(false);
  });

  it('reads two queues at once with two workers, each starting on its own queue', async () => {
    const ran: { key: string; processId: number; started: number; ended: number }[] = [];
    // long enough that the second worker is surely up before the first is done with pg_data
    const jobs = [
      ...[4, 3, 2, 1].map((size) => job(`ts1/${size}`, size * 100, 'sleep', { ms: 400 }, 'ts1')),
      ...[2, 1].map((size) => job(`pg_data/${size}`, size * 100, 'sleep', { ms: 400 }, 'pg_data')),
    ];
    await runJobs(jobs, {
      processMax: 2,
      pipeline: 1,
      spawn,
      queueOrder: ['pg_data', 'ts1'],
      onResult: (_done, result: { key: string; processId: number; started: number; ended: number }) => void ran.push(result),
    });
    const firstOf = (processId: number) =>
      ran.filter((entry) => entry.processId === processId).sort((a, b) => a.started - b.started)[0]!;
    expect(firstOf(1).key).toBe('pg_data/2');
    expect(firstOf(2).key).toBe('ts1/4');
    // the first jobs of both queues ran at the same time
    expect(firstOf(1).started).toBeLessThan(firstOf(2).ended);
    expect(firstOf(2).started).toBeLessThan(firstOf(1).ended);
    // pg_data's worker helped with ts1 once its own queue was empty
    expect(ran.filter((entry) => entry.processId === 1).map((entry) => entry.key.split('/')[0])).toContain('ts1');
  });

  it('retries a failing job and succeeds', async () => {
    const results: unknown[] = [];
    const summary = await runJobs([job('pg_data/base/1/1249', 1, 'failTimes', { times: 2, name: 'FileRead' })], {
      processMax: 2,
      spawn,
      jobRetryIntervalMs: 20,
      onResult: (_done, result) => void results.push(result),
    });
    expect(summary).toMatchObject({ attempts: 3, retries: 2 });
    expect(results).toEqual([{ attempt: 3, pid: expect.any(Number) }]);
  });

  it('fails naming the job, with the original error code and hint, once the retries are used up', async () => {
    const error = await runJobs(
      [job('pg_data/base/1/1249', 1, 'failTimes', { times: 5, name: 'FileOpen', hint: 'is the disk mounted?' })],
      {
        processMax: 1,
        spawn,
        jobRetryIntervalMs: 10,
      },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobError);
    expect(error).toMatchObject({
      errorName: 'FileOpen',
      code: 41,
      hint: 'is the disk mounted?',
      message: expect.stringMatching(
        /^job 'pg_data\/base\/1\/1249' failed after 3 attempts: unable to read 'pg_data\/base\/1\/1249' \(attempt 1\)\n\[FileOpen\] on retry: .*\(attempt 2\)\n\[FileOpen\] on retry: .*\(attempt 3\)$/,
      ),
    });
    expect((error as JobError).failures.map((failure) => failure.code)).toEqual([41, 41, 41]);
    expect(((error as JobError).cause as Error).stack).toContain('worker-entry.mjs');

    const plain = await runJobs([job('bug', 1, 'throwPlain')], { processMax: 1, spawn, jobRetry: 0 }).catch(
      (caught: unknown) => caught,
    );
    expect(plain).toMatchObject({
      errorName: 'Unhandled',
      message: "job 'bug' failed after 1 attempt: cannot read properties of undefined",
    });
  });

  it('retries on a new worker the job of a worker killed with SIGKILL, and the run goes on', async () => {
    const dir = tempDir('exec', null);
    const pidFile = join(dir, 'victim.pid');
    const results = new Map<string, { pid: number; attempt: number }>();
    const run = runJobs(
      [
        job('victim', 1000, 'sleep', { ms: 60_000, retryMs: 10, pidFile }),
        ...Array.from({ length: 10 }, (_, index) => job(`small-${index}`, 1, 'sleep', { ms: 20 })),
      ],
      { processMax: 2, spawn, onResult: (done, result: { pid: number; attempt: number }) => void results.set(done.key, result) },
    );
    const victimPid = await waitFor(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined), 10_000);
    process.kill(victimPid, 'SIGKILL');
    const summary = await run;
    expect(summary).toMatchObject({ jobs: 11, retries: 1, workersStarted: 3 });
    expect(results.get('victim')!.attempt).toBe(2);
    expect(results.get('victim')!.pid).not.toBe(victimPid);
    expect(results.size).toBe(11);
    expect(running(victimPid)).toBe(false);
    removeDir(dir);
  });

  it('fails with WorkerExit when the job ends its worker every time', async () => {
    const events: WorkerEvent[] = [];
    const error = await runJobs([job('crasher', 1, 'exit', { code: 3 })], {
      processMax: 1,
      spawn,
      jobRetryIntervalMs: 10,
      onWorker: (event) => events.push(event),
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      errorName: 'WorkerExit',
      code: 160,
      message: expect.stringMatching(
        /^job 'crasher' failed after 3 attempts: worker process 1 \(pid \d+\) ended with exit code 3\n/,
      ),
    });
    const exits = events.filter((event) => event.type === 'exit');
    expect(exits.map((event) => event.code)).toEqual([3, 3, 3]);
    expect(exits.every((event) => !running(event.pid!))).toBe(true);
  });

  it('cancels: kills the workers and leaves no child process', async () => {
    const controller = new AbortController();
    const pids: number[] = [];
    const run = runJobs(
      Array.from({ length: 6 }, (_, index) => job(`long-${index}`, index, 'sleep', { ms: 60_000 })),
      {
        processMax: 3,
        spawn,
        signal: controller.signal,
        onWorker: (event) => {
          if (event.type !== 'ready') return;
          pids.push(event.pid!);
          if (pids.length === 3) setTimeout(() => controller.abort(), 50);
        },
      },
    );
    const started = Date.now();
    const error = await run.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PgkeepError);
    expect(error).toMatchObject({ errorName: 'Cancelled', code: 135, message: 'cancelled with 6 of 6 jobs not done' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(pids).toHaveLength(3);
    for (const pid of pids) expect(running(pid)).toBe(false);
    expect(children().filter((pid) => pids.includes(pid))).toEqual([]);
  });

  it('workers exit when their parent is killed with SIGKILL', async () => {
    const parent = spawnProcess(process.execPath, [new URL('./fixtures/parent-dies.mjs', import.meta.url).pathname, '2'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const pids = await waitFor(() => {
      const found = [...out.matchAll(/^worker (\d+)$/gm)].map((match) => Number(match[1]));
      return found.length === 2 ? found : undefined;
    }, 10_000);
    expect(pids.every(running)).toBe(true);
    const exited = new Promise((resolve) => parent.on('exit', resolve));
    parent.kill('SIGKILL');
    await exited;
    const killedAt = Date.now();
    await waitFor(() => (pids.some(running) ? undefined : true), 5_000);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
  });

  it('forwards progress and returns Buffers and init data as they were', async () => {
    const reports: number[] = [];
    const results = new Map<string, unknown>();
    await runJobs(
      [
        job('big', 4000, 'progress', { steps: 4, stepMs: 5 }),
        job('buffer', 10, 'allocate', { bytes: 64 * 1024 * 1024 }),
        job('settings', 1, 'init'),
      ],
      {
        processMax: 2,
        spawn,
        init: { repo: '/var/lib/pgbackrest', key: Buffer.from('k') },
        onProgress: (progressed, bytes) => progressed.key === 'big' && reports.push(bytes),
        onResult: (done, result) => void results.set(done.key, result),
      },
    );
    expect(reports).toEqual([1000, 2000, 3000, 4000]);
    expect(results.get('big')).toBe(4000);
    const allocated = results.get('buffer') as { length: number; head: Buffer; rss: number };
    expect(allocated.length).toBe(64 * 1024 * 1024);
    expect(Buffer.isBuffer(allocated.head)).toBe(true);
    expect([...allocated.head]).toEqual([7, 7, 7, 7]);
    expect(results.get('settings')).toEqual({ repo: '/var/lib/pgbackrest', key: Buffer.from('k') });
  });

  it('starts workers with the environment given', async () => {
    const results: unknown[] = [];
    await runJobs([job('env', 1, 'env', { name: 'PGKEEP_TEST_MARK' })], {
      processMax: 1,
      spawn: forkWorker(entry.pathname, { execArgv: [], env: { ...process.env, PGKEEP_TEST_MARK: 'from the parent' } }),
      onResult: (_done, result) => void results.push(result),
    });
    expect(results).toEqual(['from the parent']);
  });

  it('fails with WorkerExit when the worker cannot start, and refuses a job that is not plain data', async () => {
    const missing = forkWorker('/nonexistent/pgkeep/no-such-entry.mjs', { execArgv: [] });
    await expect(runJobs([job('a', 1, 'echo')], { processMax: 1, spawn: missing })).rejects.toMatchObject({
      errorName: 'WorkerExit',
      message: expect.stringMatching(/^worker process 1 \(pid \d+\) ended with exit code 1 before it was ready$/),
    });

    const records: string[] = [];
    const unsubscribe = log.subscribe((record) => records.push(record.message));
    const noNode = forkWorker(entry, { execPath: '/nonexistent/node' });
    await expect(runJobs([job('a', 1, 'echo')], { processMax: 1, spawn: noNode })).rejects.toMatchObject({
      errorName: 'WorkerExit',
      message: 'worker process 1 ended with exit code null before it was ready',
    });
    unsubscribe();
    expect(records.some((message) => message.startsWith('unable to start worker') && message.includes('ENOENT'))).toBe(true);

    await expect(runJobs([job('fn', 1, 'echo', { fn: () => 1 })], { processMax: 1, spawn })).rejects.toMatchObject({
      errorName: 'Assert',
      message: expect.stringContaining('could not be cloned'),
    });
  });

  it('measures the overhead of a job', async () => {
    const count = 5000;
    const lines: string[] = [];
    for (const pipeline of [1, 2]) {
      let startedAt = 0;
      const jobs = Array.from({ length: count }, (_, index) => job(`empty-${index}`, 0, 'empty'));
      await runJobs(jobs, {
        processMax: 2,
        pipeline,
        spawn,
        onWorker: (event) => {
          if (event.type === 'ready' && startedAt === 0) startedAt = performance.now();
        },
      });
      const ms = performance.now() - startedAt;
      lines.push(
        `pipeline ${pipeline}: ${Math.round((count / ms) * 1000)} empty jobs/s through 2 workers, ${((ms * 1000) / count).toFixed(1)} us per job`,
      );
      expect(count / ms).toBeGreaterThan(0.5); // more than 500 jobs/s even on a busy machine
    }
    console.log(lines.join('\n'));
  });
});
