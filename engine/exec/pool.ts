import { errorTable } from '../error/error-table.js';
import { PgkeepError } from '../error/pgkeep-error.js';
import { log } from '../log/logger.js';
import type { SpawnWorker, WorkerChannel } from './channel.js';
import { inProcessWorker } from './in-process.js';
import { JobError } from './job-error.js';
import { JobQueue } from './job-queue.js';
import type { Job, JobHandlers, QueueKey } from './job.js';
import { asFromWorker, EXEC_PROTOCOL, type ToWorker } from './messages.js';
import type { WireError } from './wire-error.js';

/** Where the workers come from: processes (forkWorker, Electron's adapter) or this process. */
export type WorkerSource =
  | { readonly spawn: SpawnWorker; readonly inProcess?: undefined }
  /** Handlers called in this process, with the same queues, retries and progress (tiny runs, tests). */
  | { readonly inProcess: JobHandlers; readonly spawn?: undefined };

export interface RunJobsSettings<J extends Job, R> {
  /** Workers (pgBackRest's process-max). */
  readonly processMax: number;
  /** Retries of a failed job before the run fails (pgBackRest's job-retry, default 2). */
  readonly jobRetry?: number;
  /** Wait before the second and later retries; the first is immediate (pgBackRest's job-retry-interval, default 15 s). */
  readonly jobRetryIntervalMs?: number;
  /** Jobs sent ahead to each worker so it never waits for the next one (default 2; 1 is pgBackRest's strict order). */
  readonly pipeline?: number;
  /**
   * Jobs of at least this many bytes stream, one at a time in a worker (their handler waits for
   * the last to finish): a worker that has one is sent no other, which would wait there while
   * another worker could run it; small jobs still go ahead to it. Default: no job counts as large.
   */
  readonly largeJob?: number;
  /** Plain data every worker gets once before its first job (JobContext.init). */
  readonly init?: unknown;
  /** Queue numbering (pg_data, then tablespaces); queues not listed follow in order of appearance. */
  readonly queueOrder?: readonly QueueKey[];
  /** Aborting stops the run: no more jobs, workers killed, the run rejects with Cancelled (or the reason, if a PgkeepError). */
  readonly signal?: AbortSignal;
  /** Each result as its job completes, one call at a time in completion order; the run waits for a returned promise and fails if it rejects. */
  readonly onResult?: (job: J, result: R) => void | Promise<void>;
  /** Bytes of the job done in its current attempt; 0 again when an attempt failed and the job will be retried. */
  readonly onProgress?: (job: J, bytes: number) => void;
  /** Workers starting and ending (status displays, tests). */
  readonly onWorker?: (event: WorkerEvent) => void;
  /** How long a worker may take to exit when told to stop (and, after a kill, to be reported gone), default 10 s. */
  readonly stopTimeoutMs?: number;
}

export type RunJobsOptions<J extends Job, R> = WorkerSource & RunJobsSettings<J, R>;

export interface WorkerEvent {
  readonly type: 'ready' | 'exit';
  readonly processId: number;
  readonly pid: number | undefined;
  readonly code?: number | null;
  readonly signal?: string | null;
}

export interface RunSummary {
  readonly jobs: number;
  /** Jobs started by workers, retries included. */
  readonly attempts: number;
  readonly retries: number;
  readonly workersStarted: number;
}

/**
 * Runs every job on a pool of `processMax` workers, largest first and spread over the queues, and
 * resolves when all are done and every worker has exited. A failed job is retried (pgBackRest's
 * job-retry; unlike pgBackRest the retry may run on any worker), also when its worker died under
 * it (a new worker takes the slot); a job that fails every attempt fails the run with a JobError.
 * Whatever ends the run, the workers are stopped or killed and gone before the promise settles.
 *
 *     await runJobs(files.map((file) => ({ key: file.name, handler: 'backupFile', size: file.size, queue: file.target, data: file })), {
 *       processMax: config.processMax,
 *       spawn: forkWorker(new URL('./backup-worker.js', import.meta.url)),
 *       init: { repoPath, compressType },
 *       onResult: (job, result: BackupFileResult) => manifest.update(job.key, result),
 *       onProgress: (job, bytes) => meter.progress(job.key, bytes),
 *     });
 */
export async function runJobs<J extends Job, R = unknown>(jobs: Iterable<J>, options: RunJobsOptions<J, R>): Promise<RunSummary> {
  return await new JobRun<J, R>(jobs, options).run();
}

interface Entry<J extends Job> {
  readonly key: string;
  readonly size: number;
  readonly queue: QueueKey;
  readonly job: J;
  readonly failures: WireError[];
}

interface InFlight<J extends Job> {
  readonly id: number;
  readonly entry: Entry<J>;
}

interface Slot<J extends Job> {
  /** 0-based: picks the slot's starting queue. */
  readonly index: number;
  readonly processId: number;
  readonly channel: WorkerChannel;
  readonly exited: Promise<void>;
  ready: boolean;
  alive: boolean;
  /** In the order sent, which is the order the worker runs them: the first is the running one. */
  readonly inFlight: InFlight<J>[];
}

class JobRun<J extends Job, R> {
  private readonly spawn: SpawnWorker;
  private readonly queue: JobQueue<Entry<J>>;
  private readonly slots: Slot<J>[] = [];
  private readonly delayed = new Set<NodeJS.Timeout>();
  private readonly total: number;
  private readonly jobRetry: number;
  private readonly retryInterval: number;
  private readonly pipeline: number;
  private readonly stopTimeout: number;
  private remaining: number;
  private nextId = 1;
  private attempts = 0;
  private retries = 0;
  private workersStarted = 0;
  private finishing = false;
  private failure: Error | undefined;
  /** onResult calls, chained so they run one at a time; never rejects (a failure is recorded in resultError). */
  private results: Promise<void> = Promise.resolve();
  private resultError: Error | undefined;
  private settle: { resolve: (summary: RunSummary) => void; reject: (error: Error) => void } | undefined;

  constructor(
    jobs: Iterable<J>,
    private readonly options: RunJobsOptions<J, R>,
  ) {
    this.jobRetry = options.jobRetry ?? 2;
    this.retryInterval = options.jobRetryIntervalMs ?? 15_000;
    this.pipeline = options.pipeline ?? 2;
    this.stopTimeout = options.stopTimeoutMs ?? 10_000;
    requireCount('processMax', options.processMax, 1);
    requireCount('jobRetry', this.jobRetry, 0);
    requireCount('jobRetryIntervalMs', this.retryInterval, 0);
    requireCount('pipeline', this.pipeline, 1);
    if ((options.spawn === undefined) === (options.inProcess === undefined))
      throw new PgkeepError('Assert', 'runJobs needs exactly one of spawn and inProcess');
    this.spawn = options.spawn ?? inProcessWorker(options.inProcess!);

    const entries: Entry<J>[] = [];
    for (const job of jobs) entries.push({ key: job.key, size: job.size, queue: job.queue, job, failures: [] });
    this.queue = new JobQueue(entries, options.queueOrder);
    this.total = this.remaining = entries.length;
  }

  run(): Promise<RunSummary> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      const signal = this.options.signal;
      if (signal?.aborted) return this.abort();
      if (this.remaining === 0) return this.finish();
      signal?.addEventListener('abort', this.abort);
      const workers = Math.min(this.options.processMax, this.remaining);
      for (let index = 0; index < workers && !this.finishing; index++) this.startSlot(index);
    });
  }

  private readonly abort = () => {
    const reason: unknown = this.options.signal?.reason;
    this.finish(
      reason instanceof PgkeepError
        ? reason
        : new PgkeepError('Cancelled', `cancelled with ${this.remaining} of ${this.total} jobs not done`),
    );
  };

  private startSlot(index: number): void {
    const processId = index + 1;
    let channel: WorkerChannel;
    try {
      channel = this.spawn(processId);
    } catch (error) {
      this.finish(
        new PgkeepError('Execute', `unable to start worker process ${processId}: ${(error as Error).message}`, { cause: error }),
      );
      return;
    }
    let exited!: () => void;
    const slot: Slot<J> = {
      index,
      processId,
      channel,
      exited: new Promise((resolve) => (exited = resolve)),
      ready: false,
      alive: true,
      inFlight: [],
    };
    this.slots[index] = slot;
    this.workersStarted++;
    channel.onMessage((message) => this.onMessage(slot, message));
    channel.onExit((code, signal) => {
      slot.alive = false;
      exited();
      this.onExit(slot, code, signal);
    });
  }

  private onMessage(slot: Slot<J>, raw: unknown): void {
    const message = asFromWorker(raw);
    if (message === undefined || this.finishing) return;
    if (message.type === 'ready') {
      if (message.protocol !== EXEC_PROTOCOL) {
        this.finish(
          new PgkeepError(
            'Protocol',
            `worker process ${slot.processId} speaks job protocol ${message.protocol}, not ${EXEC_PROTOCOL}`,
            {
              hint: 'the worker entry comes from another build of pgkeep: rebuild or reinstall',
            },
          ),
        );
        return;
      }
      slot.ready = true;
      this.notify(() => this.options.onWorker?.({ type: 'ready', processId: slot.processId, pid: slot.channel.pid }));
      if (this.send(slot, { type: 'init', processId: slot.processId, init: this.options.init }, 'the init data')) this.fillAll();
      return;
    }
    if (message.type === 'progress') {
      const flight = slot.inFlight.find((candidate) => candidate.id === message.id);
      if (flight !== undefined) this.notify(() => this.options.onProgress?.(flight.entry.job, message.bytes));
      return;
    }
    const at = slot.inFlight.findIndex((candidate) => candidate.id === message.id);
    if (at < 0) return;
    const { entry } = slot.inFlight.splice(at, 1)[0]!;
    if (message.type === 'result') {
      this.remaining--;
      this.deliver(entry.job, message.result as R);
      if (this.remaining === 0) this.finish();
      else this.fillAll();
    } else {
      this.failed(entry, message.error);
      this.fillAll();
    }
  }

  private onExit(slot: Slot<J>, code: number | null, signal: string | null): void {
    this.notify(() => this.options.onWorker?.({ type: 'exit', processId: slot.processId, pid: slot.channel.pid, code, signal }));
    if (this.finishing) return;
    const ended = `worker process ${slot.processId}${slot.channel.pid === undefined ? '' : ` (pid ${slot.channel.pid})`} ended with ${
      signal === null ? `exit code ${code}` : `signal ${signal}`
    }`;
    if (!slot.ready) {
      this.finish(
        new PgkeepError('WorkerExit', `${ended} before it was ready`, {
          hint: 'the worker entry could not start: its own error is on stderr above, or in the log',
        }),
      );
      return;
    }
    const [running, ...waiting] = slot.inFlight.splice(0);
    log.warn(running === undefined ? ended : `${ended} while running job '${running.entry.key}'`);
    // Jobs sent ahead never started: they go back to the queue without counting as an attempt.
    for (const flight of waiting) {
      this.attempts--;
      this.queue.push(flight.entry);
    }
    if (running !== undefined) {
      this.failed(running.entry, {
        name: 'WorkerExit',
        code: errorTable.WorkerExit.code,
        message: ended,
        hint: 'a worker killed by a signal may have run out of memory (see the kernel log) or been stopped by someone',
      });
    }
    // Idle workers may take the requeued jobs at once; the slot gets a new worker while work is left.
    this.fillAll();
    if (!this.finishing && (this.queue.length > 0 || this.delayed.size > 0)) this.startSlot(slot.index);
  }

  /** An attempt failed: retry the job (the first retry at once, later ones after the interval) or fail the run. */
  private failed(entry: Entry<J>, error: WireError): void {
    entry.failures.push(error);
    // Assert is a bug in pgkeep (or a handler missing from the entry): trying again cannot help.
    if (entry.failures.length > this.jobRetry || error.name === 'Assert') {
      this.finish(new JobError(entry.job, entry.failures as [WireError, ...WireError[]]));
      return;
    }
    this.retries++;
    this.notify(() => this.options.onProgress?.(entry.job, 0));
    const delay = entry.failures.length === 1 ? 0 : this.retryInterval;
    log.detail(`retry job '${entry.key}' in ${delay}ms after [${error.name}] ${error.message}`);
    if (delay === 0) {
      this.queue.push(entry);
      return;
    }
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      this.queue.push(entry);
      this.fillAll();
    }, delay);
    this.delayed.add(timer);
  }

  /**
   * Every worker one job deep, then two deep...: a free worker gets the biggest job before another
   * gets its second, and no worker gets a second while one is still starting.
   */
  private fillAll(): void {
    for (let depth = 1; depth <= this.pipeline; depth++) {
      for (const slot of this.slots) this.fill(slot, depth);
      if (this.slots.some((slot) => slot.alive && slot.inFlight.length < depth)) return;
    }
  }

  private fill(slot: Slot<J>, depth: number): void {
    const large = this.options.largeJob ?? Infinity;
    while (!this.finishing && slot.alive && slot.ready && slot.inFlight.length < depth) {
      const busy = slot.inFlight.some((flight) => flight.entry.job.size >= large);
      const entry = this.queue.next(slot.index, busy ? large - 1 : Infinity);
      if (entry === undefined) return;
      const id = this.nextId++;
      this.attempts++;
      slot.inFlight.push({ id, entry });
      const { job } = entry;
      const message: ToWorker = {
        type: 'job',
        id,
        handler: job.handler,
        key: job.key,
        size: job.size,
        queue: job.queue,
        attempt: entry.failures.length + 1,
        data: job.data,
      };
      this.send(slot, message, `job '${job.key}'`);
    }
  }

  /** Sends, or fails the run when the message cannot be serialized (it holds something that is not plain data). */
  private send(slot: Slot<J>, message: ToWorker, what: string): boolean {
    try {
      slot.channel.send(message);
      return true;
    } catch (error) {
      this.finish(
        new PgkeepError('Assert', `${what} cannot be sent to worker process ${slot.processId}: ${(error as Error).message}`, {
          hint: 'jobs carry plain data only (no functions, class instances or streams)',
          cause: error,
        }),
      );
      return false;
    }
  }

  private deliver(job: J, result: R): void {
    const onResult = this.options.onResult;
    if (onResult === undefined) return;
    this.results = this.results.then(async () => {
      if (this.resultError !== undefined) return;
      try {
        await onResult(job, result);
      } catch (error) {
        this.resultError = asError(error);
        this.finish(this.resultError);
      }
    });
  }

  /** Calls a callback of the caller: if it throws, the run fails with its error (it must not escape into an event handler). */
  private notify(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.finish(asError(error));
    }
  }

  /** The first outcome wins: stop dispatching, stop (success) or kill (failure) every worker, then settle. */
  private finish(error?: Error): void {
    if (this.finishing) return;
    this.finishing = true;
    this.failure = error;
    this.options.signal?.removeEventListener('abort', this.abort);
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
    const stops = this.slots.filter((slot) => slot.alive).map((slot) => this.stop(slot, error === undefined && slot.ready));
    void Promise.all(stops)
      .then(() => this.results)
      .then(() => {
        const failure = this.failure ?? this.resultError;
        if (failure === undefined) {
          this.settle!.resolve({
            jobs: this.total,
            attempts: this.attempts,
            retries: this.retries,
            workersStarted: this.workersStarted,
          });
        } else this.settle!.reject(failure);
      });
  }

  /** Asks an idle worker to exit (killing it if it does not in time), or kills it at once; resolves when it is gone. */
  private async stop(slot: Slot<J>, gently: boolean): Promise<void> {
    if (gently) {
      slot.channel.send({ type: 'stop' });
      if (await this.exitWithin(slot)) return;
      log.warn(`worker process ${slot.processId} did not exit within ${this.stopTimeout}ms of being told to stop: killing it`);
    }
    slot.channel.kill();
    if (!(await this.exitWithin(slot))) log.warn(`worker process ${slot.processId} was killed but its end was not reported`);
  }

  private async exitWithin(slot: Slot<J>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.stopTimeout)));
    const gone = await Promise.race([slot.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return gone;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function requireCount(name: string, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum)
    throw new PgkeepError('Assert', `runJobs option ${name} must be an integer of at least ${minimum}, not ${value}`);
}
