import { errorTable, type ErrorName } from '../error/error-table.js';
import { toPgkeepError } from '../error/pgkeep-error.js';

/** An error as data, so it can cross a process boundary: the name and code of the error table, message, hint. */
export interface WireError {
  readonly name: string;
  readonly code: number;
  readonly message: string;
  readonly hint?: string | undefined;
  /** The worker's stack, for debug logs only. */
  readonly stack?: string | undefined;
}

/** Whatever a handler threw, as data (system errors get their error-table name the same way as in the main process). */
export function toWireError(error: unknown): WireError {
  const pgkeepError = toPgkeepError(error);
  const original = error instanceof Error ? error : pgkeepError;
  return {
    name: pgkeepError.errorName,
    code: pgkeepError.code,
    message: pgkeepError.message,
    hint: pgkeepError.hint,
    stack: original.stack,
  };
}

/** The error-table name of an error that came back as data; a name this build does not know is Unknown. */
export function wireErrorName(error: WireError): ErrorName {
  return Object.hasOwn(errorTable, error.name) ? (error.name as ErrorName) : 'Unknown';
}
