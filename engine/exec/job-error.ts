import { PgkeepError } from '../error/pgkeep-error.js';
import type { Job } from './job.js';
import { wireErrorName, type WireError } from './wire-error.js';

/**
 * A job failed on every attempt. Like pgBackRest, it carries the first failure's error name (so
 * the exit code is that of, say, FileRead), message and hint, names the job, and lists what the
 * retries failed with when that differs.
 */
export class JobError extends PgkeepError {
  readonly job: Job;
  /** Every attempt's error, as the worker reported it (the first one decides the name and code). */
  readonly failures: readonly WireError[];

  constructor(job: Job, failures: readonly [WireError, ...WireError[]]) {
    const first = failures[0];
    super(wireErrorName(first), describe(job, failures), { hint: first.hint, cause: remoteError(first) });
    this.job = job;
    this.failures = failures;
  }
}

function describe(job: Job, failures: readonly [WireError, ...WireError[]]): string {
  const [first, ...retries] = failures;
  const attempts = failures.length === 1 ? '1 attempt' : `${failures.length} attempts`;
  const later = retries.map(
    (retry) => `\n[${retry.name}] on retry${retry.message === first.message ? '' : `: ${retry.message}`}`,
  );
  return `job '${job.key}' failed after ${attempts}: ${first.message}${later.join('')}`;
}

/** The worker's error rebuilt for debug logs, with the worker's stack. */
function remoteError(error: WireError): Error {
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  if (error.stack !== undefined) rebuilt.stack = error.stack;
  return rebuilt;
}
