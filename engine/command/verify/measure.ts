import type { Job } from '../../exec/job.js';
import { runJobs, type WorkerSource } from '../../exec/pool.js';
import { SMALL_FILE_SIZE } from './small-file.js';
import type { VerifyFileJob, VerifyFileResult, VerifyFilesJob } from './verify-file.js';

/** How verify runs its file jobs: pgBackRest's process-max, job-retry, job-retry-interval. */
export interface MeasureSettings {
  readonly workers: WorkerSource;
  readonly processMax: number;
  readonly jobRetry?: number | undefined;
  readonly jobRetryIntervalMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Bytes read so far of the current batch, and the batch's total. */
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
}

export interface MeasureRequest {
  /** Unique: the file's repository path (with `@<offset>` inside a bundle). */
  readonly key: string;
  /** Bytes to read: the largest files go first. */
  readonly size: number;
  readonly job: VerifyFileJob;
}

export const VERIFY_FILE_HANDLER = 'verify-file';

/** Small files go to workers in batches of up to this many files and bytes: a job costs about as much as reading 100 KB. */
const BATCH_FILES = 64;
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Measures files in parallel on `processMax` workers, largest first: a large file is a job of its
 * own, small ones go in batches. Returns each file's measurement by key. A worker that dies is
 * replaced and its job retried by the pool; problems with the files themselves are results, not
 * failures.
 */
export async function measureFiles(
  requests: readonly MeasureRequest[],
  settings: MeasureSettings,
): Promise<Map<string, VerifyFileResult>> {
  const results = new Map<string, VerifyFileResult>();
  if (requests.length === 0) return results;
  const jobs = batchJobs(requests);
  const total = jobs.reduce((sum, job) => sum + job.size, 0);
  const running = new Map<string, number>();
  let finished = 0;
  await runJobs<BatchJob, VerifyFileResult[]>(jobs, {
    ...settings.workers,
    processMax: Math.min(settings.processMax, jobs.length),
    ...(settings.jobRetry === undefined ? {} : { jobRetry: settings.jobRetry }),
    ...(settings.jobRetryIntervalMs === undefined ? {} : { jobRetryIntervalMs: settings.jobRetryIntervalMs }),
    ...(settings.signal === undefined ? {} : { signal: settings.signal }),
    onResult: (job, measured) => {
      job.keys.forEach((key, index) => results.set(key, measured[index]!));
      running.delete(job.key);
      finished += job.size;
      settings.onProgress?.(finished, total);
    },
    onProgress: (job, bytes) => {
      running.set(job.key, bytes);
      let done = finished;
      for (const value of running.values()) done += value;
      settings.onProgress?.(done, total);
    },
  });
  return results;
}

interface BatchJob extends Job {
  readonly data: VerifyFilesJob;
  /** The request keys of the files, in the job's order. */
  readonly keys: readonly string[];
}

/** Large files one per job; small ones (in the order given) together, up to BATCH_FILES files and BATCH_BYTES bytes. */
export function batchJobs(requests: readonly MeasureRequest[]): BatchJob[] {
  const jobs: BatchJob[] = [];
  let batch: MeasureRequest[] = [];
  let bytes = 0;
  const flush = () => {
    if (batch.length === 0) return;
    const key = batch.length === 1 ? batch[0]!.key : `${batch[0]!.key} and ${batch.length - 1} more`;
    jobs.push({
      key,
      handler: VERIFY_FILE_HANDLER,
      size: bytes,
      queue: 'repo',
      data: { files: batch.map((request) => request.job) },
      keys: batch.map((request) => request.key),
    });
    batch = [];
    bytes = 0;
  };
  for (const request of requests) {
    if (request.size > SMALL_FILE_SIZE) {
      flush();
      batch.push(request);
      bytes = request.size;
      flush();
      continue;
    }
    if (batch.length === BATCH_FILES || bytes + request.size > BATCH_BYTES) flush();
    batch.push(request);
    bytes += request.size;
  }
  flush();
  return jobs;
}
