import { PgkeepError } from '../../error/pgkeep-error.js';
import type { PgClient } from '../../postgres/client.js';

/**
 * With archive-check, a primary's archiving must be set up so that its WAL can reach the
 * repository: archive_mode on (not always, unless archive-mode-check is off: two archivers, the
 * primary's and a standby's, would push the same segments), and an archive_command that runs
 * pgkeep or pgBackRest. As pgBackRest's checkDbConfig, for `check` and at the start of `backup`:
 * a backup fails at once instead of after archive-timeout, and `check` names what to change.
 */
export async function checkArchiveConfig(client: PgClient, options: { stanza: string; modeCheck: boolean }): Promise<void> {
  const mode = await client.archiveMode();
  if (mode === 'off') {
    throw new PgkeepError('ArchiveDisabled', 'archive_mode must be enabled', {
      hint: 'set archive_mode = on in postgresql.conf and restart PostgreSQL',
    });
  }
  if (options.modeCheck && mode === 'always') {
    throw new PgkeepError('FeatureNotSupported', 'archive_mode=always not supported', {
      hint: 'set archive_mode = on, or archive-mode-check=n when only this cluster archives to the repository',
    });
  }
  const command = await client.archiveCommand();
  if (!/\b(pgkeep|pgbackrest)\b/.test(command)) {
    throw new PgkeepError('ArchiveCommandInvalid', `archive_command '${command}' must contain pgkeep`, {
      hint: `set archive_command = 'pgkeep --stanza=${options.stanza} archive-push %p' and reload PostgreSQL`,
    });
  }
}
