import { isAbsolute, resolve } from 'node:path';

import type { Config } from '../../config/config.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import { defaultPgIndex } from './pg-index.js';

/**
 * The path PostgreSQL passes as %p is relative to its data directory (archive_command and
 * restore_command run there): resolve it against pg1-path when configured, else the working
 * directory.
 */
export function walPathParam(config: Config, position: number, what: string): string {
  const value = config.params[position];
  if (value === undefined || value === '') {
    throw new PgkeepError('ParamRequired', `${what} is required`, {
      hint:
        config.command === 'archive-push'
          ? "use archive_command = 'pgkeep --stanza=<name> archive-push %p'"
          : `use restore_command = 'pgkeep --stanza=<name> archive-get %f "%p"'`,
    });
  }
  if (isAbsolute(value)) return value;
  return resolve(config.stringOr('pg-path', defaultPgIndex(config)) ?? process.cwd(), value);
}
