import type { WorkerSource } from '../../exec/pool.js';
import { handler } from './restore-file.js';

/** At most this many jobs of at most this many bytes run in this process: starting a worker would cost more. */
const TINY_JOBS = 4;
const TINY_BYTES = 16 * 1024 * 1024;

/** The workers for a run of restore jobs: the given ones, or this process for a tiny run. */
export function workersFor(jobs: readonly { readonly size: number }[], workers: WorkerSource): WorkerSource {
  if (workers.spawn === undefined) return workers;
  const bytes = jobs.reduce((sum, job) => sum + job.size, 0);
  return jobs.length <= TINY_JOBS && bytes <= TINY_BYTES ? { inProcess: { 'restore-file': handler } } : workers;
}
