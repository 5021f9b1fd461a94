import { log } from '../../log/logger.js';
import { archiveInfoAddHistory, saveArchiveInfo } from '../../repo/info/archive-info.js';
import { backupInfoAddHistory, saveBackupInfo } from '../../repo/info/backup-info.js';
import { currentPgEntry, describePg } from '../../repo/info/info-pg.js';
import type { CommandContext } from '../command.js';
import { primaryIdentity } from '../common/pg-identity.js';
import { withStanzaLock } from '../common/stanza-lock.js';
import {
  archiveInfoPath,
  backupInfoPath,
  checkInfoPair,
  loadStanzaArchiveInfo,
  loadStanzaBackupInfo,
  stanzaRepo,
} from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';

/**
 * `pgkeep stanza-upgrade`: after a major upgrade (new version and system id), adds the new
 * cluster to archive.info and backup.info as the current one; its WAL goes to a new archive id.
 */
export async function run({ config }: CommandContext): Promise<number> {
  return withStanzaLock(config, 'all', async () => {
    const pg = await primaryIdentity(config, config.boolean('online'));
    for (const index of repoIndexes(config)) {
      const repo = stanzaRepo(config, index);
      log.info(`stanza-upgrade for stanza '${repo.stanza}' on repo${index}`);
      const archiveInfo = await loadStanzaArchiveInfo(repo);
      const backupInfo = await loadStanzaBackupInfo(repo);
      const archiveCurrent = currentPgEntry(archiveInfo);
      const backupCurrent = currentPgEntry(backupInfo);
      const archiveUpToDate = archiveCurrent.systemId === pg.systemId && archiveCurrent.version === pg.version;
      const backupUpToDate = backupCurrent.systemId === pg.systemId && backupCurrent.version === pg.version;
      if (!archiveUpToDate) archiveInfoAddHistory(archiveInfo, pg.systemId, pg.version);
      if (!backupUpToDate) backupInfoAddHistory(backupInfo, pg);
      // Both files name the same history entry before either is saved, as pgBackRest: a stanza
      // whose files disagree (a damaged or mixed-up repository) is reported, never made worse.
      checkInfoPair(repo, currentPgEntry(archiveInfo), currentPgEntry(backupInfo));
      if (archiveUpToDate && backupUpToDate) {
        log.info(`stanza '${repo.stanza}' on repo${index} is already up to date`);
        continue;
      }
      if (!archiveUpToDate) await saveArchiveInfo(repo.storage, archiveInfoPath(repo.stanza), archiveInfo, repo.cipherPass);
      if (!backupUpToDate) await saveBackupInfo(repo.storage, backupInfoPath(repo.stanza), backupInfo, repo.cipherPass);
      log.info(`stanza '${repo.stanza}' on repo${index} upgraded to ${describePg(pg.systemId, pg.version)}`);
    }
    return 0;
  });
}
