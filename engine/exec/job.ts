/**
 * What a parallel file job is, on both sides of the process boundary. Only plain data crosses it:
 * a job names its handler and carries a description of the work (paths, options), never file
 * contents; a result is plain data too (Buffers survive Node's advanced serialization, but
 * Electron's structured clone turns them into Uint8Array).
 */

/** Jobs are grouped in queues, one per tablespace or pg target, so that different disks are read at once. */
export type QueueKey = string | number;

export interface Job {
  /** Unique and human readable (the file's manifest name): errors and logs name the job by it. */
  readonly key: string;
  /** Name of the handler the worker entry registered for this kind of job. */
  readonly handler: string;
  /** Bytes of work: the largest jobs run first, and progress is measured against it. */
  readonly size: number;
  readonly queue: QueueKey;
  /** The job's description for the handler: plain data only. */
  readonly data?: unknown;
}

export interface JobContext {
  readonly key: string;
  readonly size: number;
  readonly queue: QueueKey;
  /** 1 on the first try, 2 on the first retry, ... */
  readonly attempt: number;
  /** 1-based number of the worker slot, like pgBackRest's P01, P02 (a replacement worker keeps its slot's number). */
  readonly processId: number;
  /** The run's `init` data, sent once to every worker (settings every job needs). */
  readonly init: unknown;
  /** Aborted when the worker is told to stop or loses its parent: long handlers should give up. */
  readonly signal: AbortSignal;
  /** Bytes done so far in this attempt; calls are throttled before they cross to the parent. */
  progress(bytes: number): void;
}

/**
 * Runs one job in a worker. `data` is the job's data as sent; the handler checks it. What it
 * returns (plain data) is the job's result; what it throws fails the attempt.
 */
export type JobHandler<D = never, R = unknown> = ((data: D, context: JobContext) => R | Promise<R>) & {
  /** Loads the handler's code ahead of its first job (a handler loaded on first use), without waiting. */
  readonly warm?: () => void;
};

export type JobHandlers = Readonly<Record<string, JobHandler>>;
