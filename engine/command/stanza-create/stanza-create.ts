import { PgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { newArchiveInfo, saveArchiveInfo } from '../../repo/info/archive-info.js';
import { newBackupInfo, saveBackupInfo } from '../../repo/info/backup-info.js';
import { currentPgEntry, describePg } from '../../repo/info/info-pg.js';
import type { CommandContext } from '../command.js';
import { primaryIdentity, type PgIdentity } from '../common/pg-identity.js';
import { withStanzaLock } from '../common/stanza-lock.js';
import {
  archiveInfoPath,
  archiveStanzaPath,
  backupInfoPath,
  backupStanzaPath,
  loadStanzaArchiveInfo,
  loadStanzaBackupInfo,
  stanzaRepo,
  type StanzaRepo,
} from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';

/**
 * `pgkeep stanza-create`: writes archive.info and backup.info (and their copies) for the cluster.
 * Running it again on a valid stanza is fine; a stanza of another cluster is refused.
 */
export async function run({ config }: CommandContext): Promise<number> {
  return withStanzaLock(config, 'all', async () => {
    const pg = await primaryIdentity(config, config.boolean('online'));
    for (const index of repoIndexes(config)) await createOn(stanzaRepo(config, index), pg);
    return 0;
  });
}

async function createOn(repo: StanzaRepo, pg: PgIdentity): Promise<void> {
  log.info(`stanza-create for stanza '${repo.stanza}' on repo${repo.index}`);
  const archiveExists =
    (await repo.storage.exists(archiveInfoPath(repo.stanza))) ||
    (await repo.storage.exists(`${archiveInfoPath(repo.stanza)}.copy`));
  const backupExists =
    (await repo.storage.exists(backupInfoPath(repo.stanza))) ||
    (await repo.storage.exists(`${backupInfoPath(repo.stanza)}.copy`));

  if (archiveExists || backupExists) {
    const current = archiveExists
      ? currentPgEntry(await loadStanzaArchiveInfo(repo))
      : currentPgEntry(await loadStanzaBackupInfo(repo));
    if (current.systemId !== pg.systemId || current.version !== pg.version) {
      throw new PgkeepError(
        'BackupMismatch',
        `stanza '${repo.stanza}' on repo${repo.index} already exists for ${describePg(current.systemId, current.version)}, not for this cluster's ${describePg(pg.systemId, pg.version)}`,
        {
          hint:
            current.version !== pg.version
              ? `after a major upgrade run 'pgkeep stanza-upgrade --stanza=${repo.stanza}'`
              : 'each cluster needs a stanza of its own: choose another stanza name',
        },
      );
    }
    if (archiveExists && backupExists) {
      log.info(`stanza '${repo.stanza}' already exists on repo${repo.index} and is valid`);
      return;
    }
  } else {
    await refuseLeftovers(repo);
  }

  if (!archiveExists) await saveArchiveInfo(repo.storage, archiveInfoPath(repo.stanza), newArchiveInfo(pg.systemId, pg.version));
  if (!backupExists) await saveBackupInfo(repo.storage, backupInfoPath(repo.stanza), newBackupInfo(pg));
  log.info(`stanza '${repo.stanza}' created on repo${repo.index} for ${describePg(pg.systemId, pg.version)}`);
}

/** Files without info files: a stanza deleted by hand, or another tool's data. Never written over. */
async function refuseLeftovers(repo: StanzaRepo): Promise<void> {
  for (const path of [archiveStanzaPath(repo.stanza), backupStanzaPath(repo.stanza)]) {
    const entries = await repo.storage.list(path, { ignoreMissing: true });
    if (entries.length > 0) {
      throw new PgkeepError(
        'PathNotEmpty',
        `'${repo.storage.resolve(path)}' on repo${repo.index} holds files but no info files`,
        {
          hint: `move those files away, or remove the stanza with 'pgkeep stop' and 'pgkeep stanza-delete' first`,
        },
      );
    }
  }
}
