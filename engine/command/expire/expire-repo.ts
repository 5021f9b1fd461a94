import { toPgkeepError, type PgkeepError } from '../../error/pgkeep-error.js';
import { WAL_SEGMENT_DIR_REGEX } from '../../repo/archive/archive-path.js';
import { BACKUP_HISTORY_PATH, backupLabelRegex, compareBackupLabels } from '../../repo/backup/label.js';
import type { ArchiveInfo } from '../../repo/info/archive-info.js';
import { saveBackupInfo, type BackupInfo } from '../../repo/info/backup-info.js';
import { INFO_COPY_EXT } from '../../repo/info/info-codec.js';
import { compareBytes } from '../../repo/info/json-value.js';
import { MANIFEST_FILE, readManifestFile } from '../../repo/manifest/manifest.js';
import {
  archiveStanzaPath,
  backupInfoPath,
  backupStanzaPath,
  loadStanzaArchiveInfo,
  loadStanzaBackupInfo,
  type StanzaRepo,
} from '../common/stanza-repo.js';
import { archiveScanLimit, HISTORY_FILE_REGEX, WAL_FILE_REGEX } from './expire-archive.js';
import type { ArchiveIdListing, RepoListing } from './expire-plan.js';
import type { ExpireAction } from './expire-steps.js';
import { reconstructBackupInfo } from './reconstruct.js';

/** pgBackRest's REGEX_ARCHIVE_DIR_DB_VERSION: archive id directories (`15-1`, `9.6-2`). */
const ARCHIVE_ID_REGEX = /^[0-9]+(\.[0-9]+)*-[0-9]+$/;
const YEAR_REGEX = /^2[0-9]{3}$/;
/** `backup/<stanza>/latest`: the informational link to the newest backup. */
const LATEST_LINK = 'latest';

export interface RepoState {
  readonly backupInfo: BackupInfo;
  readonly archiveInfo: ArchiveInfo | PgkeepError;
  readonly listing: RepoListing;
}

export interface GatherOptions {
  readonly set?: string | undefined;
  /** List the WAL directories' files (only needed when WAL may be expired). */
  readonly listWal: boolean;
  /** List backup.history (only needed with repo-retention-history). */
  readonly listHistory: boolean;
  /** Receives the warnings of backup.info reconstruction. */
  readonly warn: (message: string) => void;
}

async function names(repo: StanzaRepo, path: string, filter: RegExp): Promise<string[]> {
  return (await repo.storage.list(path, { ignoreMissing: true, filter })).map((entry) => entry.name).sort(compareBytes);
}

/** Loads what the planner needs from one repository: the info files (backup.info reconstructed) and listings. */
export async function gatherRepo(repo: StanzaRepo, options: GatherOptions): Promise<RepoState> {
  const backupPath = backupStanzaPath(repo.stanza);
  const backupInfo = await loadStanzaBackupInfo(repo);
  await reconstructBackupInfo(repo.storage, backupPath, backupInfo, options.warn);
  let archiveInfo: ArchiveInfo | PgkeepError;
  try {
    archiveInfo = await loadStanzaArchiveInfo(repo);
  } catch (error) {
    archiveInfo = toPgkeepError(error);
  }

  const backupLabels = (await names(repo, backupPath, backupLabelRegex())).sort(compareBackupLabels);
  const resumable =
    options.set === undefined ? undefined : await findResumable(repo, backupLabels.at(-1), options.set, backupInfo.cipherPass);

  const archiveIds = new Map<string, ArchiveIdListing>();
  const archivePath = archiveStanzaPath(repo.stanza);
  for (const archiveId of await names(repo, archivePath, ARCHIVE_ID_REGEX)) {
    const walDirs = options.listWal ? await names(repo, `${archivePath}/${archiveId}`, WAL_SEGMENT_DIR_REGEX) : [];
    const limit = archiveScanLimit(backupInfo, archiveId);
    const files = new Map<string, string[]>();
    for (const dir of walDirs) {
      if (limit !== undefined && compareBytes(dir, limit) <= 0)
        files.set(dir, await names(repo, `${archivePath}/${archiveId}/${dir}`, WAL_FILE_REGEX));
    }
    const historyFiles = options.listWal ? await names(repo, `${archivePath}/${archiveId}`, HISTORY_FILE_REGEX) : [];
    archiveIds.set(archiveId, { walDirs, files, historyFiles });
  }

  const historyManifests = new Map<string, string[]>();
  if (options.listHistory) {
    const historyPath = `${backupPath}/${BACKUP_HISTORY_PATH}`;
    for (const year of await names(repo, historyPath, YEAR_REGEX))
      historyManifests.set(year, await names(repo, `${historyPath}/${year}`, /./));
  }
  return { backupInfo, archiveInfo, listing: { backupLabels, resumable, archiveIds, historyManifests } };
}

/**
 * The newest backup directory when it is resumable (a manifest copy without the manifest), with
 * its prior label when it may belong to the set being expired (only then does pgBackRest read it).
 */
async function findResumable(
  repo: StanzaRepo,
  newest: string | undefined,
  set: string,
  cipherPass: string | undefined,
): Promise<RepoListing['resumable']> {
  if (newest === undefined) return undefined;
  const manifest = `${backupStanzaPath(repo.stanza)}/${newest}/${MANIFEST_FILE}`;
  if ((await repo.storage.exists(manifest)) || !(await repo.storage.exists(manifest + INFO_COPY_EXT))) return undefined;
  if (!newest.startsWith(set.slice(0, 16))) return { label: newest };
  return { label: newest, prior: (await readManifestFile(repo.storage, manifest + INFO_COPY_EXT, cipherPass)).backup.prior };
}

/** Carries out one action of a plan on the repository. */
export async function executeAction(repo: StanzaRepo, action: ExpireAction, backupInfo: BackupInfo): Promise<void> {
  const storage = repo.storage;
  const backupPath = backupStanzaPath(repo.stanza);
  const archivePath = archiveStanzaPath(repo.stanza);
  switch (action.kind) {
    case 'save-backup-info':
      return saveBackupInfo(storage, backupInfoPath(repo.stanza), backupInfo, repo.cipherPass);
    case 'link-latest':
      await storage.remove(`${backupPath}/${LATEST_LINK}`);
      await storage.symlink(action.label, `${backupPath}/${LATEST_LINK}`);
      return storage.pathSync(backupPath);
    case 'remove-backup': {
      // The manifest first: a directory without one is never taken back into backup.info.
      const manifest = `${backupPath}/${action.label}/${MANIFEST_FILE}`;
      await storage.remove(manifest);
      await storage.remove(manifest + INFO_COPY_EXT);
      return storage.pathRemove(`${backupPath}/${action.label}`, { recurse: true });
    }
    case 'remove-archive-id':
      return storage.pathRemove(`${archivePath}/${action.archiveId}`, { recurse: true });
    case 'remove-wal-dir':
      return storage.pathRemove(`${archivePath}/${action.archiveId}/${action.dir}`, { recurse: true });
    case 'remove-wal-file':
    case 'remove-timeline-history':
      return storage.remove(`${archivePath}/${action.archiveId}/${action.file}`);
    case 'remove-history-year':
      return storage.pathRemove(`${backupPath}/${BACKUP_HISTORY_PATH}/${action.year}`, { recurse: true });
    case 'remove-history-manifest':
      return storage.remove(`${backupPath}/${BACKUP_HISTORY_PATH}/${action.file}`);
  }
}
