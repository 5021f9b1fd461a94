import { PgkeepError } from '../../engine/error/pgkeep-error.js';

/** The PgkeepError `run` throws (a test fails when it throws nothing, or something else). */
export function failure(run: () => unknown): PgkeepError {
  try {
    run();
  } catch (error) {
    if (error instanceof PgkeepError) return error;
    throw error;
  }
  throw new Error('expected a PgkeepError');
}
