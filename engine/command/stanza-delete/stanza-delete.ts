import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { PgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { acquireLock, removeStopFile, stopFileExists } from '../../repo/lock/lock.js';
import type { CommandContext } from '../command.js';
import { defaultPgIndex } from '../common/pg-index.js';
import { ALL_LOCK_WAIT_MS } from '../common/stanza-lock.js';
import { archiveInfoPath, archiveStanzaPath, backupInfoPath, backupStanzaPath, stanzaRepo } from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';

/**
 * `pgkeep stanza-delete`: removes the stanza with all its backups and WAL. Guarded as in
 * pgBackRest: the stanza must be stopped first, and PostgreSQL must not be running on pg1-path
 * unless --force.
 */
export async function run({ config }: CommandContext): Promise<number> {
  const stanza = config.string('stanza');
  const lockPath = config.string('lock-path');
  if (!(await stopFileExists(lockPath, stanza))) {
    throw new PgkeepError('FileMissing', `stop file does not exist for stanza '${stanza}'`, {
      hint: `run 'pgkeep stop --stanza=${stanza}' on this host first: deleting a stanza that is in use loses backups being written`,
    });
  }
  const pgPath = config.stringOr('pg-path', defaultPgIndex(config));
  if (pgPath !== undefined && existsSync(join(pgPath, 'postmaster.pid')) && !config.boolean('force')) {
    throw new PgkeepError('PgRunning', `PostgreSQL is running on '${pgPath}' (postmaster.pid exists)`, {
      hint: 'stop the cluster first, or pass --force if it is no longer archiving to this stanza',
    });
  }
  const lock = await acquireLock({ lockPath, stanza, type: 'all', timeoutMs: ALL_LOCK_WAIT_MS });
  try {
    for (const index of repoIndexes(config)) {
      const repo = stanzaRepo(config, index, stanza);
      // Info files first: a half-deleted stanza is then visibly gone, not a damaged one.
      for (const file of [archiveInfoPath(stanza), backupInfoPath(stanza)]) {
        await repo.storage.remove(file);
        await repo.storage.remove(`${file}.copy`);
      }
      await repo.storage.pathRemove(archiveStanzaPath(stanza), { recurse: true });
      await repo.storage.pathRemove(backupStanzaPath(stanza), { recurse: true });
      log.info(`stanza '${stanza}' deleted from repo${index}`);
    }
  } finally {
    await lock.release();
  }
  await removeStopFile(lockPath, stanza);
  return 0;
}
