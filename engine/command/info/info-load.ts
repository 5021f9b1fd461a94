import type { Config } from '../../config/config.js';
import { toPgkeepError } from '../../error/pgkeep-error.js';
import type { ArchiveRange } from '../../repo/archive/archive-path.js';
import { archiveIdForHistory } from '../../repo/info/archive-info.js';
import type { BackupType } from '../../repo/backup/label.js';
import { infoErrorState, type InfoRepoState, type InfoStanzaInput } from '../../repo/info-json.js';
import { readLock, type LockContent } from '../../repo/lock/lock.js';
import { loadManifestFile } from '../../repo/manifest/manifest.js';
import {
  archiveIdRange,
  backupInfoPath,
  backupStanzaPath,
  loadStanzaArchiveInfo,
  loadStanzaBackupInfo,
  repoCipherType,
  stanzaRepo,
  type StanzaRepo,
} from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';

export interface LoadedStanza {
  readonly input: InfoStanzaInput;
  /** The running backup's lock content (progress), when a backup holds the lock. */
  readonly backupLock: LockContent | undefined;
}

/**
 * Reads what `info` shows for every stanza (or --stanza): backup.info, archive.info and the
 * archive range of each repository, and whether a backup runs now. A repository that fails to
 * load becomes an error state of that repository, as in pgBackRest, not a failure of the command.
 */
export async function loadStanzasForInfo(config: Config): Promise<LoadedStanza[]> {
  const indexes = repoIndexes(config);
  const only = config.stringOr('stanza');
  const names = only === undefined ? await stanzasInRepos(config, indexes) : [only];
  const result: LoadedStanza[] = [];
  for (const name of names) {
    const repos = [];
    for (const index of indexes) {
      const repo = stanzaRepo(config, index, name);
      repos.push({ key: index, cipher: repoCipherType(repo), state: await loadRepoState(repo, config.stringOr('set')) });
    }
    const lockPath = config.stringOr('lock-path');
    const lock = lockPath === undefined ? undefined : await readLock(lockPath, name, 'backup');
    const held = lock?.status === 'held';
    result.push({
      input: {
        name,
        repos,
        backupLockHeld: held,
        ...(config.stringOr('set') === undefined ? {} : { set: config.string('set') }),
        ...(config.stringOr('type') === undefined ? {} : { type: config.string('type') as BackupType }),
      },
      backupLock: held ? lock?.content : undefined,
    });
  }
  return result;
}

async function stanzasInRepos(config: Config, indexes: readonly number[]): Promise<string[]> {
  const names = new Set<string>();
  for (const index of indexes) {
    const repo = stanzaRepo(config, index, '');
    for (const entry of await repo.storage.list('backup', { ignoreMissing: true }))
      if (entry.type === 'path') names.add(entry.name);
  }
  return [...names].sort();
}

export async function loadRepoState(repo: StanzaRepo, set?: string): Promise<InfoRepoState> {
  try {
    if (!(await repo.storage.pathExists(backupStanzaPath(repo.stanza)))) return { kind: 'missing-stanza-path' };
    const path = backupInfoPath(repo.stanza);
    if (!(await repo.storage.exists(path)) && !(await repo.storage.exists(`${path}.copy`)))
      return { kind: 'missing-stanza-data' };
    const backupInfo = await loadStanzaBackupInfo(repo);
    const archiveInfo = await loadStanzaArchiveInfo(repo);
    const archiveRanges = new Map<string, ArchiveRange>();
    for (const entry of backupInfo.history) {
      const archiveId = archiveIdForHistory(archiveInfo, entry);
      if (!archiveRanges.has(archiveId)) archiveRanges.set(archiveId, await archiveIdRange(repo, archiveId));
    }
    const manifest =
      set !== undefined && backupInfo.backups.some((backup) => backup.label === set)
        ? (await loadManifestFile(repo.storage, `${backupStanzaPath(repo.stanza)}/${set}/backup.manifest`, backupInfo.cipherPass))
            .value
        : undefined;
    return { kind: 'ok', backupInfo, archiveInfo, archiveRanges, manifest };
  } catch (error) {
    return infoErrorState(toPgkeepError(error));
  }
}
