import { errorTable, type ErrorName } from './error-table.js';

export interface ErrorDetail {
  /** Advice for the user, printed on a `HINT:` line. */
  hint?: string | undefined;
  /** The error that caused this one, kept for debug logging. */
  cause?: unknown;
}

/**
 * The one error type the engine throws on purpose. Messages are lowercase with no trailing
 * period and say what is wrong and where (file:line, option, path, host).
 */
export class PgkeepError extends Error {
  readonly errorName: ErrorName;
  readonly code: number;
  readonly hint: string | undefined;

  constructor(errorName: ErrorName, message: string, detail: ErrorDetail = {}) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.name = 'PgkeepError';
    this.errorName = errorName;
    this.code = errorTable[errorName].code;
    this.hint = detail.hint;
  }

  /** The message with its hint lines, as printed to the user. */
  get text(): string {
    return this.hint === undefined ? this.message : `${this.message}\nHINT: ${this.hint}`;
  }
}

export function isPgkeepError(error: unknown, name?: ErrorName): error is PgkeepError {
  return error instanceof PgkeepError && (name === undefined || error.errorName === name);
}

/**
 * Turns anything thrown into a PgkeepError: our own pass through, system errors get a code by
 * their errno, anything else is Unhandled (a bug: the message says so).
 */
export function toPgkeepError(error: unknown): PgkeepError {
  if (error instanceof PgkeepError) return error;
  if (error instanceof Error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === 'EACCES' || errno === 'EPERM') return new PgkeepError('Access', lowerFirst(error.message), { cause: error });
    if (errno === 'ENOENT') return new PgkeepError('FileMissing', lowerFirst(error.message), { cause: error });
    if (errno === 'ENOSPC')
      return new PgkeepError('FileWrite', lowerFirst(error.message), { cause: error, hint: 'free space on the device' });
    return new PgkeepError('Unhandled', lowerFirst(error.message), {
      cause: error,
      hint: 'this is a bug in pgkeep: please report it with the log',
    });
  }
  return new PgkeepError('Unknown', String(error));
}

/** Errors start lowercase; a leading errno name (ENOENT) or acronym stays as it is. */
function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
}
