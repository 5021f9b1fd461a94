import { describe, expect, it } from 'vitest';

import type { WorkerChannel } from '../../../../engine/exec/channel.js';
import { inProcessWorker } from '../../../../engine/exec/in-process.js';
import { JobError } from '../../../../engine/exec/job-error.js';
import type { Job, JobContext, JobHandlers } from '../../../../engine/exec/job.js';
import { EXEC_PROTOCOL } from '../../../../engine/exec/messages.js';
import { runJobs, type WorkerEvent } from '../../../../engine/exec/pool.js';
import { PgkeepError } from '../../../../engine/error/pgkeep-error.js';
import { captureLog, hookedWorkers, job, ScriptedWorker, sleep } from './helpers.js';

interface Ran {
  readonly key: string;
  readonly processId: number;
  readonly attempt: number;
}

/** Handlers that record what ran where, in the order the jobs started. */
function recordingHandlers(ran: Ran[] = []): JobHandlers {
  const note = (context: JobContext) => ran.push({ key: context.key, processId: context.processId, attempt: context.attempt });
  return {
    echo: (data: unknown, context) => {
      note(context);
      return { data, processId: context.processId };
    },
    sleep: async (data: { ms: number }, context) => {
      note(context);
      await sleep(data.ms, context.signal);
      return context.key;
    },
    failTimes: (data: { times: number; messages?: string[] }, context) => {
      note(context);
      if (context.attempt <= data.times) {
        const message = data.messages?.[context.attempt - 1] ?? `unable to read '${context.key}'`;
        throw new PgkeepError('FileRead', message, { hint: 'check the disk' });
      }
      return context.attempt;
    },
    progress: async (data: { steps: number }, context) => {
      for (let step = 1; step <= data.steps; step++) {
        context.progress(step * 10);
        await sleep(2);
      }
      if (context.attempt === 1 && context.key === 'flaky') throw new PgkeepError('FileRead', 'read error');
      return context.size;
    },
    init: (_data: unknown, context) => context.init,
    badResult: () => ({ callback: () => 1 }),
    plainError: () => {
      throw new RangeError('Offset is outside the bounds');
    },
  };
}

describe('runJobs with in-process workers', () => {
  it('runs every job and delivers every result', async () => {
    const results = new Map<string, unknown>();
    const workers: WorkerEvent[] = [];
    const jobs = [
      job('a', 3, 'echo', { n: 1 }),
      job('b', 2, 'echo', { n: 2 }),
      job('c', 1, 'echo', { n: 3, buffer: Buffer.from('xy') }),
    ];
    const summary = await runJobs(jobs, {
      processMax: 2,
      inProcess: recordingHandlers(),
      onResult: (done: Job, result: unknown) => void results.set(done.key, result),
      onWorker: (event) => workers.push(event),
    });
    expect(summary).toEqual({ jobs: 3, attempts: 3, retries: 0, workersStarted: 2 });
    expect([...results.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(results.get('a')).toMatchObject({ data: { n: 1 } });
    // a Buffer crosses as a Buffer, as with advanced serialization between processes
    expect(Buffer.isBuffer((results.get('c') as { data: { buffer: unknown } }).data.buffer)).toBe(true);
    expect(
      workers
        .filter((event) => event.type === 'ready')
        .map((event) => event.processId)
        .sort(),
    ).toEqual([1, 2]);
    expect(workers.filter((event) => event.type === 'exit').every((event) => event.code === 0)).toBe(true);
  });

  it('resolves at once for no jobs, starting no worker', async () => {
    let spawned = 0;
    const summary = await runJobs([], {
      processMax: 4,
      spawn: () => {
        spawned++;
        return new ScriptedWorker();
      },
    });
    expect(summary).toEqual({ jobs: 0, attempts: 0, retries: 0, workersStarted: 0 });
    expect(spawned).toBe(0);
  });

  it('starts no more workers than there are jobs', async () => {
    const summary = await runJobs([job('only', 1)], { processMax: 8, inProcess: recordingHandlers() });
    expect(summary.workersStarted).toBe(1);
  });

  it('runs the largest job first', async () => {
    const ran: Ran[] = [];
    const sizes = [5, 500, 50, 0, 5000, 50];
    const jobs = sizes.map((size, index) => job(`f${index}`, size));
    await runJobs(jobs, { processMax: 1, pipeline: 1, inProcess: recordingHandlers(ran) });
    expect(ran.map((entry) => entry.key)).toEqual(['f4', 'f1', 'f2', 'f5', 'f0', 'f3']);
  });

  it('spreads two workers over two queues, each helping the other when its own is empty', async () => {
    const ran: Ran[] = [];
    const jobs = [
      job('a1', 40, 'sleep', { ms: 5 }, 'a'),
      job('a2', 30, 'sleep', { ms: 5 }, 'a'),
      job('a3', 20, 'sleep', { ms: 5 }, 'a'),
      job('a4', 10, 'sleep', { ms: 5 }, 'a'),
      job('b1', 40, 'sleep', { ms: 5 }, 'b'),
    ];
    await runJobs(jobs, { processMax: 2, pipeline: 1, inProcess: recordingHandlers(ran), queueOrder: ['a', 'b'] });
    const byWorker = (processId: number) => ran.filter((entry) => entry.processId === processId).map((entry) => entry.key);
    // worker 1 starts on queue a, worker 2 on queue b; once b is empty worker 2 takes from a
    expect(byWorker(1)[0]).toBe('a1');
    expect(byWorker(2)[0]).toBe('b1');
    expect(byWorker(2).length).toBeGreaterThan(1);
    expect(
      byWorker(2)
        .slice(1)
        .every((key) => key.startsWith('a')),
    ).toBe(true);
    expect(ran.filter((entry) => entry.key.startsWith('a')).map((entry) => entry.key)).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('sends jobs ahead to each worker (pipeline), a free worker getting a job before another gets its second', async () => {
    const sentTo: [number, string][] = [];
    const spawn = hookedWorkers(recordingHandlers(), {
      sent: (_channel, message, processId) => {
        if (message.type === 'job') sentTo.push([processId, message.key]);
      },
    });
    const jobs = ['a', 'b', 'c', 'd', 'e', 'f'].map((key, index) => job(key, 100 - index, 'sleep', { ms: 20 }));
    await runJobs(jobs, { processMax: 2, pipeline: 2, spawn });
    const first = sentTo.slice(0, 4);
    expect(first.filter(([processId]) => processId === 1)).toHaveLength(2);
    expect(first.filter(([processId]) => processId === 2)).toHaveLength(2);
    expect(sentTo).toHaveLength(6);
  });

  it('sends a worker busy with a large job no other large one, but small ones still go ahead', async () => {
    const sentTo: [number, string][] = [];
    const spawn = hookedWorkers(recordingHandlers(), {
      sent: (_channel, message, processId) => {
        if (message.type === 'job') sentTo.push([processId, message.key]);
      },
    });
    // Two workers, three large jobs: the third waits for whichever worker is free first.
    const jobs = [job('large1', 1000, 'sleep', { ms: 60 }), job('large2', 900, 'sleep', { ms: 10 })];
    jobs.push(
      job('large3', 800, 'sleep', { ms: 10 }),
      job('small1', 10, 'sleep', { ms: 1 }),
      job('small2', 9, 'sleep', { ms: 1 }),
    );
    await runJobs(jobs, { processMax: 2, pipeline: 3, largeJob: 100, spawn });
    const workerOf = new Map(sentTo.map(([processId, key]) => [key, processId]));
    expect(workerOf.get('large1')).toBe(1);
    // large3 went to worker 2 once large2 was done there, not ahead to worker 1 behind large1.
    expect(workerOf.get('large3')).toBe(2);
    expect(sentTo.findIndex(([, key]) => key === 'large3')).toBeGreaterThan(1);
    expect(sentTo).toHaveLength(5);
  });

  it('gives every worker the init data and its process number', async () => {
    const results: unknown[] = [];
    await runJobs([job('i1', 1, 'init'), job('i2', 1, 'init')], {
      processMax: 2,
      init: { repoPath: '/repo', compress: 'lz4' },
      inProcess: recordingHandlers(),
      onResult: (_job, result) => void results.push(result),
    });
    expect(results).toEqual([
      { repoPath: '/repo', compress: 'lz4' },
      { repoPath: '/repo', compress: 'lz4' },
    ]);
  });
});

describe('runJobs retries', () => {
  it('retries a failing job, the first retry at once and later ones after the interval', async () => {
    const ran: Ran[] = [];
    const results: unknown[] = [];
    const started = performance.now();
    const { value: summary, records } = await captureLog(() =>
      runJobs([job('pg_data/base/1/1259', 10, 'failTimes', { times: 2 })], {
        processMax: 1,
        jobRetryIntervalMs: 60,
        inProcess: recordingHandlers(ran),
        onResult: (_job, result) => void results.push(result),
      }),
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(summary).toEqual({ jobs: 1, attempts: 3, retries: 2, workersStarted: 1 });
    expect(results).toEqual([3]);
    expect(ran.map((entry) => entry.attempt)).toEqual([1, 2, 3]);
    const retries = records.filter((record) => record.message.startsWith('retry job'));
    expect(retries.map((record) => record.message)).toEqual([
      "retry job 'pg_data/base/1/1259' in 0ms after [FileRead] unable to read 'pg_data/base/1/1259'",
      "retry job 'pg_data/base/1/1259' in 60ms after [FileRead] unable to read 'pg_data/base/1/1259'",
    ]);
  });

  it('fails the run when the retries are used up, with the first error name, code, hint and the job', async () => {
    const ok: string[] = [];
    const { error } = await captureLog(() =>
      runJobs(
        [job('pg_data/base/1/2600', 10, 'failTimes', { times: 9, messages: ['first', 'first', 'other'] }), job('fine', 1)],
        {
          processMax: 1,
          jobRetry: 2,
          jobRetryIntervalMs: 1,
          inProcess: recordingHandlers(),
          onResult: (done) => void ok.push(done.key),
        },
      ),
    );
    expect(error).toBeInstanceOf(JobError);
    const jobError = error as JobError;
    expect(jobError.errorName).toBe('FileRead');
    expect(jobError.code).toBe(42);
    expect(jobError.hint).toBe('check the disk');
    expect(jobError.job.key).toBe('pg_data/base/1/2600');
    expect(jobError.failures).toHaveLength(3);
    expect(jobError.message).toBe(
      "job 'pg_data/base/1/2600' failed after 3 attempts: first\n[FileRead] on retry\n[FileRead] on retry: other",
    );
    expect(jobError.cause).toBeInstanceOf(Error);
    expect((jobError.cause as Error).stack).toContain('failTimes');
    // the other job ran while the failing one waited for its retry: its result was delivered before the run failed
    expect(ok).toEqual(['fine']);
  });

  it('does not retry when jobRetry is 0', async () => {
    const { error } = await captureLog(() =>
      runJobs([job('once', 1, 'failTimes', { times: 1 })], { processMax: 1, jobRetry: 0, inProcess: recordingHandlers() }),
    );
    expect((error as JobError).message).toBe("job 'once' failed after 1 attempt: unable to read 'once'");
  });

  it('does not retry an Assert (a handler missing from the entry), and says which handlers there are', async () => {
    const ran: Ran[] = [];
    const { error } = await captureLog(() =>
      runJobs([job('x', 1, 'backupFile')], { processMax: 1, inProcess: recordingHandlers(ran) }),
    );
    expect((error as JobError).errorName).toBe('Assert');
    expect((error as JobError).failures).toHaveLength(1);
    expect((error as JobError).message).toContain("no handler 'backupFile' for job 'x'");
    expect((error as JobError).hint).toContain('echo, sleep, failTimes');

    const { error: none } = await captureLog(() => runJobs([job('y', 1, 'toString')], { processMax: 1, inProcess: {} }));
    expect((none as JobError).hint).toBe('the worker entry registers: nothing');
  });

  it('turns a plain Error into Unhandled, retried like any other', async () => {
    const { error } = await captureLog(() =>
      runJobs([job('z', 1, 'plainError')], { processMax: 1, jobRetryIntervalMs: 1, inProcess: recordingHandlers() }),
    );
    expect((error as JobError).errorName).toBe('Unhandled');
    expect((error as JobError).failures).toHaveLength(3);
    expect((error as JobError).message).toContain('offset is outside the bounds');
  });

  it('fails the job, not the worker, when its result is not plain data', async () => {
    const { error } = await captureLog(() =>
      runJobs([job('r', 1, 'badResult')], { processMax: 1, inProcess: recordingHandlers() }),
    );
    expect((error as JobError).errorName).toBe('Assert');
    expect((error as JobError).failures).toHaveLength(1);
    expect((error as JobError).message).toMatch(
      /^job 'r' failed after 1 attempt: the result of job 'r' cannot be sent: .*could not be cloned/,
    );
  });

  it('retries the job of a worker that died under it on a new worker, and requeues the jobs sent ahead', async () => {
    const ran: Ran[] = [];
    const workers: WorkerEvent[] = [];
    let killed = false;
    const spawn = hookedWorkers(recordingHandlers(ran), {
      sent: (channel, message) => {
        if (message.type === 'job' && message.key === 'victim' && !killed) {
          killed = true;
          setTimeout(() => channel.kill(), 5);
        }
      },
    });
    const jobs = [
      job('victim', 100, 'sleep', { ms: 50 }),
      job('next', 50, 'sleep', { ms: 1 }),
      job('last', 1, 'sleep', { ms: 1 }),
    ];
    const { value: summary, records } = await captureLog(() =>
      runJobs(jobs, { processMax: 1, pipeline: 2, spawn, onWorker: (event) => workers.push(event) }),
    );
    expect(summary).toEqual({ jobs: 3, attempts: 4, retries: 1, workersStarted: 2 });
    expect(ran.filter((entry) => entry.key === 'victim').map((entry) => entry.attempt)).toEqual([1, 2]);
    // 'next' was sent ahead to the dead worker but never started there: it is not charged a retry
    expect(ran.filter((entry) => entry.key === 'next').map((entry) => entry.attempt)).toEqual([1]);
    expect(workers.map((event) => [event.type, event.processId, event.signal ?? null])).toEqual([
      ['ready', 1, null],
      ['exit', 1, 'SIGKILL'],
      ['ready', 1, null],
      ['exit', 1, null],
    ]);
    expect(
      records.some(
        (record) =>
          record.level === 'warn' && record.message === "worker process 1 ended with signal SIGKILL while running job 'victim'",
      ),
    ).toBe(true);
  });

  it('fails with WorkerExit when the worker dies under the job on every attempt', async () => {
    const spawn = hookedWorkers(recordingHandlers(), {
      sent: (channel, message) => {
        if (message.type === 'job') setTimeout(() => channel.kill(), 1);
      },
    });
    const { error } = await captureLog(() =>
      runJobs([job('doomed', 1, 'sleep', { ms: 100 })], { processMax: 1, jobRetryIntervalMs: 1, spawn }),
    );
    expect((error as JobError).errorName).toBe('WorkerExit');
    expect((error as JobError).code).toBe(160);
    expect((error as JobError).message).toBe(
      "job 'doomed' failed after 3 attempts: worker process 1 ended with signal SIGKILL\n[WorkerExit] on retry\n[WorkerExit] on retry",
    );
  });

  it('replaces a worker that died idle while a retry waits, and not one that died with nothing left to do', async () => {
    const started: number[] = [];
    let failures = 0;
    const spawn = hookedWorkers(recordingHandlers(), {
      received: (channel, message) => {
        const type = (message as { type: string }).type;
        // the second failure schedules a delayed retry: kill the now idle worker
        if (type === 'error' && ++failures === 2) channel.kill();
      },
    });
    const { value: summary } = await captureLog(() =>
      runJobs([job('flaky', 1, 'failTimes', { times: 2 })], {
        processMax: 1,
        jobRetryIntervalMs: 30,
        spawn,
        onWorker: (event) => void (event.type === 'ready' && started.push(event.processId)),
      }),
    );
    expect(summary).toMatchObject({ attempts: 3, workersStarted: 2 });
    expect(started).toEqual([1, 1]);

    const channels: WorkerChannel[] = [];
    const idleKill = hookedWorkers(
      recordingHandlers(),
      {
        received: (channel, message) => {
          if ((message as { type: string }).type === 'result' && channel === channels[1]) channel.kill();
        },
      },
      channels,
    );
    const { value: second } = await captureLog(() =>
      runJobs([job('long', 10, 'sleep', { ms: 40 }), job('short', 1, 'sleep', { ms: 1 })], {
        processMax: 2,
        pipeline: 1,
        spawn: idleKill,
      }),
    );
    expect(second).toMatchObject({ jobs: 2, attempts: 2, workersStarted: 2 });
  });
});

describe('runJobs progress and results', () => {
  it('forwards progress per job, back to 0 when an attempt failed', async () => {
    const reports: [string, number][] = [];
    await captureLog(() =>
      runJobs([job('steady', 30, 'progress', { steps: 3 }), job('flaky', 20, 'progress', { steps: 2 })], {
        processMax: 2,
        spawn: inProcessWorker(recordingHandlers(), { progressIntervalMs: 0 }),
        onProgress: (progressed, bytes) => reports.push([progressed.key, bytes]),
      }),
    );
    expect(reports.filter(([key]) => key === 'steady').map(([, bytes]) => bytes)).toEqual([10, 20, 30]);
    expect(reports.filter(([key]) => key === 'flaky').map(([, bytes]) => bytes)).toEqual([10, 20, 0, 10, 20]);
  });

  it('delivers results one at a time, waiting for a returned promise', async () => {
    let active = 0;
    let most = 0;
    const delivered: string[] = [];
    const jobs = Array.from({ length: 6 }, (_, index) => job(`f${index}`, index));
    await runJobs(jobs, {
      processMax: 3,
      inProcess: recordingHandlers(),
      onResult: async (done) => {
        most = Math.max(most, ++active);
        await sleep(3);
        delivered.push(done.key);
        active--;
      },
    });
    expect(most).toBe(1);
    expect(delivered.sort()).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
  });

  it('fails the run when onResult fails, and calls it no more', async () => {
    const delivered: string[] = [];
    const jobs = Array.from({ length: 20 }, (_, index) => job(`f${index}`, index, 'echo'));
    await expect(
      runJobs(jobs, {
        processMax: 2,
        inProcess: recordingHandlers(),
        onResult: async (done) => {
          delivered.push(done.key);
          // meanwhile more results arrive and wait their turn: they are dropped once this fails
          await sleep(20);
          throw new PgkeepError('FileWrite', 'unable to save the manifest');
        },
      }),
    ).rejects.toThrow('unable to save the manifest');
    expect(delivered).toEqual(['f19']);

    await expect(
      runJobs([job('a', 1)], {
        processMax: 1,
        inProcess: recordingHandlers(),
        onResult: () => {
          throw 'not an Error';
        },
      }),
    ).rejects.toThrow('not an Error');
  });

  it('fails the run when onProgress or onWorker throws, instead of letting the error escape', async () => {
    await expect(
      runJobs([job('p', 30, 'progress', { steps: 3 })], {
        processMax: 1,
        spawn: inProcessWorker(recordingHandlers(), { progressIntervalMs: 0 }),
        onProgress: () => {
          throw new Error('display broke');
        },
      }),
    ).rejects.toThrow('display broke');
    await expect(
      runJobs([job('w', 1)], {
        processMax: 1,
        inProcess: recordingHandlers(),
        onWorker: () => {
          throw new Error('status broke');
        },
      }),
    ).rejects.toThrow('status broke');
  });
});

describe('runJobs cancellation', () => {
  it('kills the workers and rejects with Cancelled', async () => {
    const controller = new AbortController();
    const aborted: string[] = [];
    const handlers: JobHandlers = {
      sleep: async (_data: unknown, context) => {
        context.signal.addEventListener('abort', () => aborted.push(context.key));
        await sleep(10_000, context.signal);
      },
    };
    const exits: WorkerEvent[] = [];
    const run = runJobs([job('a', 2, 'sleep'), job('b', 1, 'sleep'), job('c', 0, 'sleep')], {
      processMax: 2,
      inProcess: handlers,
      signal: controller.signal,
      onWorker: (event) => {
        if (event.type === 'exit') exits.push(event);
        if (event.type === 'ready' && event.processId === 2) setTimeout(() => controller.abort(), 5);
      },
    });
    const error = await run.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PgkeepError);
    expect((error as PgkeepError).errorName).toBe('Cancelled');
    expect((error as PgkeepError).message).toBe('cancelled with 3 of 3 jobs not done');
    expect(aborted.sort()).toEqual(['a', 'b']);
    expect(exits.map((event) => event.signal)).toEqual(['SIGKILL', 'SIGKILL']);
  });

  it('does not wait for a delayed retry once cancelled', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const run = runJobs([job('flaky', 1, 'failTimes', { times: 5 })], {
      processMax: 1,
      jobRetryIntervalMs: 10_000,
      inProcess: recordingHandlers(),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 30);
    const { error } = await captureLog(() => run);
    expect((error as PgkeepError).errorName).toBe('Cancelled');
    expect((error as PgkeepError).message).toBe('cancelled with 1 of 1 jobs not done');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('rejects at once when already cancelled, and passes a PgkeepError reason through', async () => {
    let spawned = 0;
    const spawn = () => {
      spawned++;
      return new ScriptedWorker();
    };
    await expect(runJobs([job('a', 1)], { processMax: 1, spawn, signal: AbortSignal.abort() })).rejects.toMatchObject({
      errorName: 'Cancelled',
    });
    const reason = new PgkeepError('Term', 'terminated by signal SIGTERM');
    await expect(runJobs([job('a', 1)], { processMax: 1, spawn, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(spawned).toBe(0);
  });
});

describe('runJobs with misbehaving workers', () => {
  const ready = { type: 'ready', protocol: EXEC_PROTOCOL };

  it('fails with WorkerExit when a worker ends before it is ready', async () => {
    const worker = new ScriptedWorker();
    const run = runJobs([job('a', 1)], { processMax: 1, spawn: () => worker });
    worker.exit(1, null);
    await expect(run).rejects.toMatchObject({
      errorName: 'WorkerExit',
      message: 'worker process 1 (pid 4242) ended with exit code 1 before it was ready',
    });
  });

  it('refuses a worker of another protocol', async () => {
    const worker = new ScriptedWorker();
    const run = runJobs([job('a', 1)], { processMax: 1, spawn: () => worker });
    worker.emit({ type: 'ready', protocol: EXEC_PROTOCOL + 1 });
    await expect(run).rejects.toMatchObject({ errorName: 'Protocol', hint: expect.stringContaining('another build') });
    expect(worker.kills).toBe(1);
  });

  it('fails with Execute when a worker cannot be spawned', async () => {
    await expect(
      runJobs([job('a', 1)], {
        processMax: 1,
        spawn: () => {
          throw new Error('spawn EAGAIN');
        },
      }),
    ).rejects.toMatchObject({ errorName: 'Execute', message: 'unable to start worker process 1: spawn EAGAIN' });
  });

  it('ignores what is not its protocol, and replies for jobs it does not know', async () => {
    const worker = new ScriptedWorker();
    const run = runJobs([job('a', 1)], { processMax: 1, spawn: () => worker });
    worker.emit('hello');
    worker.emit(null);
    worker.emit({ type: 42 });
    worker.emit({ type: 'unknown' });
    worker.emit(ready);
    const sent = worker.sent.find((message) => message.type === 'job')!;
    expect(sent).toMatchObject({ type: 'job', key: 'a', attempt: 1 });
    const id = sent.type === 'job' ? sent.id : -1;
    worker.emit({ type: 'result', id: id + 100, result: 'stray' });
    worker.emit({ type: 'progress', id: id + 100, bytes: 1 });
    worker.emit({ type: 'result', id, result: 'done' });
    await expect(run).resolves.toMatchObject({ jobs: 1, attempts: 1 });
    expect(worker.sent.map((message) => message.type)).toEqual(['init', 'job', 'stop']);
  });

  it('kills a worker that does not stop in time, and gives up on one whose end is never reported', async () => {
    const stubborn = new ScriptedWorker({ exitOnStop: false });
    const run = runJobs([job('a', 1)], { processMax: 1, stopTimeoutMs: 20, spawn: () => stubborn });
    stubborn.emit(ready);
    const sent = stubborn.sent.find((message) => message.type === 'job');
    stubborn.emit({ type: 'result', id: sent?.type === 'job' ? sent.id : 0, result: null });
    const { records } = await captureLog(() => run);
    expect(stubborn.kills).toBe(1);
    expect(records.map((record) => record.message)).toEqual([
      'worker process 1 did not exit within 20ms of being told to stop: killing it',
    ]);

    const immortal = new ScriptedWorker({ exitOnKill: false });
    const controller = new AbortController();
    const cancelled = runJobs([job('a', 1)], {
      processMax: 1,
      stopTimeoutMs: 20,
      spawn: () => immortal,
      signal: controller.signal,
    });
    controller.abort();
    const { error, records: more } = await captureLog(() => cancelled);
    expect((error as PgkeepError).errorName).toBe('Cancelled');
    expect(more.map((record) => record.message)).toEqual(['worker process 1 was killed but its end was not reported']);
  });

  it('kills a worker that is not ready yet when the run ends', async () => {
    const fast = new ScriptedWorker();
    const slow = new ScriptedWorker();
    const workers = [fast, slow];
    const run = runJobs([job('a', 2), job('b', 1)], { processMax: 2, spawn: () => workers.shift()! });
    fast.emit(ready);
    for (let round = 0; round < 2; round++) {
      const sent = fast.sent.filter((message) => message.type === 'job')[round]!;
      // the slow worker is still starting: the fast one gets no second job ahead
      expect(fast.sent.filter((message) => message.type === 'job')).toHaveLength(round + 1);
      fast.emit({ type: 'result', id: sent.type === 'job' ? sent.id : 0, result: null });
    }
    await expect(run).resolves.toMatchObject({ attempts: 2, workersStarted: 2 });
    expect(slow.kills).toBe(1);
    expect(slow.sent).toEqual([]);
    expect(fast.kills).toBe(0);
  });

  it('fails with Assert when a job or the init data is not plain data', async () => {
    await expect(
      runJobs([job('fn', 1, 'echo', { callback: () => 1 })], { processMax: 1, inProcess: recordingHandlers() }),
    ).rejects.toMatchObject({
      errorName: 'Assert',
      message: expect.stringMatching(/^job 'fn' cannot be sent to worker process 1: .*could not be cloned/),
    });
    await expect(
      runJobs([job('a', 1)], { processMax: 1, init: { callback: () => 1 }, inProcess: recordingHandlers() }),
    ).rejects.toMatchObject({ errorName: 'Assert', message: expect.stringMatching(/^the init data cannot be sent/) });
  });

  it('checks its options', async () => {
    const inProcess = recordingHandlers();
    await expect(runJobs([], { processMax: 0, inProcess })).rejects.toMatchObject({
      errorName: 'Assert',
      message: expect.stringContaining('processMax'),
    });
    await expect(runJobs([], { processMax: 1, pipeline: 1.5, inProcess })).rejects.toThrow('pipeline');
    await expect(runJobs([], { processMax: 1, jobRetry: -1, inProcess })).rejects.toThrow('jobRetry');
    await expect(runJobs([], { processMax: 1, jobRetryIntervalMs: -5, inProcess })).rejects.toThrow('jobRetryIntervalMs');
    // @ts-expect-error: exactly one worker source
    await expect(runJobs([], { processMax: 1, inProcess, spawn: () => new ScriptedWorker() })).rejects.toThrow('exactly one');
  });
});
