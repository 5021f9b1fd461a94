import { PgkeepError } from '../error/pgkeep-error.js';
import type { ParentChannel } from './channel.js';
import type { JobContext, JobHandler, JobHandlers } from './job.js';
import { asToWorker, EXEC_PROTOCOL, type FromWorker, type JobMessage } from './messages.js';
import { nodeParentChannel } from './node-parent-channel.js';
import { toWireError } from './wire-error.js';

export interface WorkerOptions {
  /** The link to the parent; default: the Node IPC channel of a forked process. */
  readonly channel?: ParentChannel;
  /** Progress reports of one job are sent at most this often (default 100 ms): IPC is not free. */
  readonly progressIntervalMs?: number;
  /** Ends the worker; default process.exit. */
  readonly exit?: (code: number) => void;
  /**
   * Jobs run at once in this worker (default 1). File jobs spend much of their time waiting for
   * the disk (fsync); with a few at once one compresses while another waits, so fewer processes
   * keep the disk and the CPU busy. The pool must send that many ahead (its `pipeline`).
   */
  readonly concurrency?: number;
}

/**
 * The worker side of the pool, called by a worker entry file with the handlers it registers:
 *
 *     runWorker({ backupFile, restoreFile });
 *
 * It answers the pool's ready check, then runs the jobs it is sent one at a time in the order
 * they came (the pool may send the next one early to hide the round trip), replies with each
 * result or error as data, and ends when told to stop or when the parent goes away.
 */
export function runWorker(handlers: JobHandlers, options: WorkerOptions = {}): void {
  // The defaults are for forked Node workers, which the test process's coverage cannot see
  // (test/integration/exec runs them); the unit tests pass their own channel and exit.
  /* v8 ignore start */
  const channel = options.channel ?? nodeParentChannel();
  const exit = options.exit ?? ((code: number) => process.exit(code));
  /* v8 ignore stop */
  const progressInterval = options.progressIntervalMs ?? 100;
  const abort = new AbortController();
  const pending: JobMessage[] = [];
  const concurrency = Math.max(1, options.concurrency ?? 1);
  let active = 0;
  let ended = false;
  let processId = 0;
  let init: unknown;

  const end = (code: number) => {
    if (ended) return;
    ended = true;
    abort.abort(new PgkeepError('Cancelled', 'worker is stopping'));
    channel.close();
    exit(code);
  };

  const runNext = async () => {
    active++;
    for (let job = pending.shift(); job !== undefined && !ended; job = pending.shift()) {
      let reply: FromWorker;
      try {
        reply = { type: 'result', id: job.id, result: await runJob(job) };
      } catch (error) {
        reply = { type: 'error', id: job.id, error: toWireError(error) };
      }
      if (ended) break;
      try {
        channel.send(reply);
      } catch (error) {
        // A result that cannot be serialized is a bug in its handler: it fails the job, not the worker.
        const unsendable = new PgkeepError(
          'Assert',
          `the result of job '${job.key}' cannot be sent: ${(error as Error).message}`,
          {
            hint: 'job handlers return plain data only (no functions, class instances or streams)',
          },
        );
        channel.send({ type: 'error', id: job.id, error: toWireError(unsendable) });
      }
    }
    active--;
  };

  const runJob = async (job: JobMessage): Promise<unknown> => {
    const handler = Object.hasOwn(handlers, job.handler) ? (handlers[job.handler] as JobHandler<unknown>) : undefined;
    if (handler === undefined) {
      throw new PgkeepError('Assert', `no handler '${job.handler}' for job '${job.key}' in this worker entry`, {
        hint: `the worker entry registers: ${Object.keys(handlers).join(', ') || 'nothing'}`,
      });
    }
    let lastSent = -Infinity;
    const context: JobContext = {
      key: job.key,
      size: job.size,
      queue: job.queue,
      attempt: job.attempt,
      processId,
      init,
      signal: abort.signal,
      progress: (bytes) => {
        const now = performance.now();
        if (ended || now - lastSent < progressInterval) return;
        lastSent = now;
        channel.send({ type: 'progress', id: job.id, bytes });
      },
    };
    return await handler(job.data, context);
  };

  channel.onMessage((raw) => {
    const message = asToWorker(raw);
    if (message === undefined || ended) return;
    if (message.type === 'init') {
      processId = message.processId;
      init = message.init;
    } else if (message.type === 'job') {
      pending.push(message);
      if (active < concurrency) void runNext();
    } else if (message.type === 'warm') {
      for (const name of message.handlers) if (Object.hasOwn(handlers, name)) handlers[name]!.warm?.();
    } else end(0);
  });
  channel.onDisconnect(() => end(1));
  channel.send({ type: 'ready', protocol: EXEC_PROTOCOL });
}
