import { errorTable, type ErrorName } from '../../error/error-table.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import type { RestorePlanProblem } from './plan-json.js';

/** A reason the restore cannot run, as the plan lists it: the error it would raise. */
export type Problem = RestorePlanProblem;

export function problem(error: ErrorName, message: string, detail: { hint?: string | undefined } = {}): Problem {
  return { error, code: errorTable[error].code, message, hint: detail.hint ?? null };
}

/** A caught error as a problem of the plan. */
export function problemOf(error: PgkeepError): Problem {
  return { error: error.errorName, code: error.code, message: error.message, hint: error.hint ?? null };
}

/** The error a problem stands for, to throw when the restore is asked to run anyway. */
export function problemError(found: Problem): PgkeepError {
  return new PgkeepError(found.error, found.message, found.hint === null ? {} : { hint: found.hint });
}
