import { newCipherPass } from '../../filter/cipher.js';
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
  checkInfoPair,
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
  const archive = await presence(repo, archiveInfoPath(repo.stanza));
  const backup = await presence(repo, backupInfoPath(repo.stanza));
  const archiveExists = archive.main || archive.copy;
  const backupExists = backup.main || backup.copy;

  if (archiveExists && backupExists) {
    await checkExisting(repo, pg);
    // Valid: a missing one of a pair is restored from the other, as pgBackRest does.
    const repaired = [
      await completePair(repo, archiveInfoPath(repo.stanza), archive),
      await completePair(repo, backupInfoPath(repo.stanza), backup),
    ];
    if (!repaired.includes(true)) log.info(`stanza '${repo.stanza}' already exists on repo${repo.index} and is valid`);
    return;
  }
  if (archiveExists || backupExists) {
    // Never rebuilt: a new backup.info would list none of the backups there (and expire would then
    // remove them as unlisted); a new archive.info could name another cluster than the archive's.
    throw new PgkeepError(
      'FileMissing',
      `${archiveExists ? 'archive.info exists but backup.info is missing' : 'backup.info exists but archive.info is missing'} on repo${repo.index}`,
      {
        hint: `this may be a symptom of repository corruption: restore the missing file from a copy of the repository, or remove the stanza with 'pgkeep stop' and 'pgkeep stanza-delete' and create it again`,
      },
    );
  }
  await refuseLeftovers(repo);
  // An encrypted repository's info files each hold a new passphrase: of the WAL files, of the manifests.
  const encrypted = repo.cipherPass !== undefined;
  const archiveInfo = newArchiveInfo(pg.systemId, pg.version, encrypted ? newCipherPass() : undefined);
  const backupInfo = newBackupInfo({ ...pg, ...(encrypted ? { cipherPass: newCipherPass() } : {}) });
  await saveArchiveInfo(repo.storage, archiveInfoPath(repo.stanza), archiveInfo, repo.cipherPass);
  await saveBackupInfo(repo.storage, backupInfoPath(repo.stanza), backupInfo, repo.cipherPass);
  log.info(`stanza '${repo.stanza}' created on repo${repo.index} for ${describePg(pg.systemId, pg.version)}`);
}

interface InfoPresence {
  readonly main: boolean;
  readonly copy: boolean;
}

async function presence(repo: StanzaRepo, path: string): Promise<InfoPresence> {
  return { main: await repo.storage.exists(path), copy: await repo.storage.exists(`${path}.copy`) };
}

/**
 * The two info files name the same cluster, and it is this one; FileInvalid (028) otherwise, as
 * pgBackRest's stanza-create and check.
 */
async function checkExisting(repo: StanzaRepo, pg: PgIdentity): Promise<void> {
  const archive = currentPgEntry(await loadStanzaArchiveInfo(repo));
  const backup = currentPgEntry(await loadStanzaBackupInfo(repo));
  checkInfoPair(repo, archive, backup);
  if (archive.systemId !== pg.systemId || archive.version !== pg.version) {
    throw new PgkeepError(
      'FileInvalid',
      `stanza '${repo.stanza}' on repo${repo.index} already exists for ${describePg(archive.systemId, archive.version)}, not for this cluster's ${describePg(pg.systemId, pg.version)}`,
      {
        hint:
          archive.version !== pg.version
            ? `after a major upgrade run 'pgkeep stanza-upgrade --stanza=${repo.stanza}'`
            : 'each cluster needs a stanza of its own: choose another stanza name',
      },
    );
  }
}

/** Writes the missing one of info file and copy from the other (atomically); whether it had to. */
async function completePair(repo: StanzaRepo, path: string, present: InfoPresence): Promise<boolean> {
  if (present.main && present.copy) return false;
  const [from, to] = present.main ? [path, `${path}.copy`] : [`${path}.copy`, path];
  const content = await repo.storage.readBuffer(from);
  /* v8 ignore next -- readBuffer() without ignoreMissing throws for a missing file rather than returning undefined */
  if (content === undefined)
    throw new PgkeepError('FileMissing', `unable to open missing file '${repo.storage.resolve(from)}' for read`);
  await repo.storage.write(to, content);
  log.info(`${repo.storage.resolve(to)} was missing on repo${repo.index}: written from ${repo.storage.resolve(from)}`);
  return true;
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
