import { realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

import type { Config } from '../../config/config.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import { defaultPgIndex } from './pg-index.js';

/**
 * The path PostgreSQL passes as %p is relative to its data directory (archive_command and
 * restore_command run there): it is resolved against the default pgN-path, which must be that
 * directory (see checkWorkingDirectory). It is the command's last parameter: more are an error,
 * not ignored (an archive_command or restore_command written wrong must fail, not do something else).
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
  const index = defaultPgIndex(config);
  // Required for both commands (the configuration refuses to run without it)
  const pgPath = config.string('pg-path', index);
  checkWorkingDirectory(pgPath, index);
  return resolve(pgPath, value);
}

/**
 * PostgreSQL runs archive_command and restore_command in its data directory, so a relative path
 * given from anywhere else means pgN-path is not the data directory of the cluster that runs the
 * command: its WAL would be read from (or written into) another cluster's pg_wal. pgBackRest
 * refuses this the same way.
 */
function checkWorkingDirectory(pgPath: string, index: number): void {
  const cwd = process.cwd();
  let real: string;
  try {
    real = realpathSync(pgPath);
  } catch {
    throw new PgkeepError('PathMissing', `unable to find option 'pg${index}-path' path '${pgPath}'`, {
      hint: `set pg${index}-path to the data directory of the cluster whose archive_command or restore_command runs pgkeep`,
    });
  }
  if (real !== realpathSync(cwd))
    throw new PgkeepError(
      'OptionInvalidValue',
      `PostgreSQL working directory '${cwd}' is not the same as option pg${index}-path '${pgPath}'`,
      {
        hint: `is the PostgreSQL data_directory configured the same as the pg${index}-path option?`,
      },
    );
}

function usage(config: Config): string {
  return config.command === 'archive-push'
    ? "use archive_command = 'pgkeep --stanza=<name> archive-push %p'"
    : `use restore_command = 'pgkeep --stanza=<name> archive-get %f "%p"'`;
}
