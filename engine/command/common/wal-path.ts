import { isAbsolute, resolve } from 'node:path';

import type { Config } from '../../config/config.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import { defaultPgIndex } from './pg-index.js';

/**
 * The path PostgreSQL passes as %p is relative to its data directory (archive_command and
 * restore_command run there): resolve it against the default pgN-path when configured, else the
 * working directory. It is the command's last parameter: more are an error, not ignored (an
 * archive_command or restore_command written wrong must fail, not do something else).
 */
export function walPathParam(config: Config, position: number, what: string): string {
  if (config.params.length > position + 1) {
    throw new PgkeepError('ParamInvalid', `extra parameters found: ${config.params.slice(position + 1).join(' ')}`, {
      hint: usage(config),
    });
  }
  const value = config.params[position];
  if (value === undefined || value === '') throw new PgkeepError('ParamRequired', `${what} is required`, { hint: usage(config) });
  if (isAbsolute(value)) return value;
  return resolve(config.stringOr('pg-path', defaultPgIndex(config)) ?? process.cwd(), value);
}

function usage(config: Config): string {
  return config.command === 'archive-push'
    ? "use archive_command = 'pgkeep --stanza=<name> archive-push %p'"
    : `use restore_command = 'pgkeep --stanza=<name> archive-get %f "%p"'`;
}
