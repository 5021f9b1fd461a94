import { log } from '../../log/logger.js';
import { backupLabelRegex, type BackupType } from '../../repo/backup/label.js';
import type { BackupInfo, BackupInfoEntry } from '../../repo/info/backup-info.js';
import { loadManifestFile, MANIFEST_FILE, readManifestFile, type Manifest } from '../../repo/manifest/manifest.js';
import type { StanzaRepo } from '../common/stanza-repo.js';
import { backupStanzaPath } from '../common/stanza-repo.js';

/**
 * The backup a diff or incremental builds on (pgBackRest's backupInfo prior): a diff on the latest
 * full, an incremental on the latest backup of any type. Without a full backup there is nothing
 * to build on, and the backup becomes a full one.
 */
export function choosePrior(info: BackupInfo, requested: BackupType): { type: BackupType; prior: BackupInfoEntry | undefined } {
  if (requested === 'full') return { type: 'full', prior: undefined };
  const current = info.backups.filter((backup) => backup.dbId === info.currentId);
  const prior = requested === 'diff' ? current.filter((backup) => backup.type === 'full').at(-1) : current.at(-1);
  if (prior === undefined) {
    log.warn(`no prior backup exists, ${requested} backup has been changed to full`);
    return { type: 'full', prior: undefined };
  }
  return { type: requested, prior };
}

/** A backup's manifest; `cipherPass` is backup.info's passphrase in an encrypted repository. */
export async function loadBackupManifest(repo: StanzaRepo, label: string, cipherPass: string | undefined): Promise<Manifest> {
  return (await loadManifestFile(repo.storage, `${backupStanzaPath(repo.stanza)}/${label}/${MANIFEST_FILE}`, cipherPass)).value;
}

/** A backup interrupted before it finished: its checkpoint manifest, if it can be resumed. */
export interface Resumable {
  readonly label: string;
  readonly manifest: Manifest;
}

export interface ResumeCriteria {
  readonly type: BackupType;
  readonly prior: string | undefined;
  readonly compressType: string;
  readonly online: boolean;
  readonly systemId: bigint;
  readonly version: string;
}

/**
 * Finds the newest backup directory that has only a checkpoint (`backup.manifest.copy`) and is not
 * in backup.info. If it matches the backup about to run (same type, prior, compression, cluster),
 * it is resumed: its files whose checksums match are kept. Any other leftover directory is
 * removed, as pgBackRest does. pgBackRest resumes only full backups; pgkeep resumes all types.
 */
export async function findResumable(
  repo: StanzaRepo,
  info: BackupInfo,
  criteria: ResumeCriteria,
  resume: boolean,
): Promise<Resumable | undefined> {
  const base = backupStanzaPath(repo.stanza);
  const known = new Set(info.backups.map((backup) => backup.label));
  const leftovers = (await repo.storage.list(base, { ignoreMissing: true, filter: backupLabelRegex() }))
    .filter((entry) => entry.type === 'path' && !known.has(entry.name))
    .map((entry) => entry.name)
    .sort();

  let resumable: Resumable | undefined;
  for (const label of leftovers.reverse()) {
    const reason =
      resumable === undefined && resume
        ? await resumeRefusal(repo, label, criteria, info.cipherPass)
        : 'a newer backup was started after it';
    if (typeof reason !== 'string') {
      resumable = { label, manifest: reason };
      continue;
    }
    log.warn(`backup '${label}' cannot be resumed: ${reason}; it will be removed`);
    await repo.storage.pathRemove(`${base}/${label}`, { recurse: true });
  }
  return resumable;
}

async function resumeRefusal(
  repo: StanzaRepo,
  label: string,
  criteria: ResumeCriteria,
  cipherPass: string | undefined,
): Promise<Manifest | string> {
  const base = `${backupStanzaPath(repo.stanza)}/${label}`;
  if (await repo.storage.exists(`${base}/${MANIFEST_FILE}`)) return 'it is complete but missing from backup.info';
  if (!(await repo.storage.exists(`${base}/${MANIFEST_FILE}.copy`))) return 'it has no checkpoint manifest';
  let manifest: Manifest;
  try {
    manifest = await readManifestFile(repo.storage, `${base}/${MANIFEST_FILE}.copy`, cipherPass);
  } catch (error) {
    return `its checkpoint manifest cannot be read (${(error as Error).message})`;
  }
  if (manifest.backup.type !== criteria.type)
    return `it is ${article(manifest.backup.type)} ${manifest.backup.type} backup, this one is ${criteria.type}`;
  if (manifest.backup.prior !== criteria.prior)
    return `its prior backup is ${manifest.backup.prior ?? 'none'}, this one's is ${criteria.prior ?? 'none'}`;
  if (manifest.options.compressType !== criteria.compressType)
    return `it is compressed with ${manifest.options.compressType}, this one with ${criteria.compressType}`;
  if (manifest.options.online !== criteria.online) return 'it was online and this one is not, or the reverse';
  if (manifest.db.systemId !== criteria.systemId || manifest.db.version !== criteria.version) return 'it is of another database';
  return manifest;
}

const article = (type: BackupType) => (type === 'incr' ? 'an' : 'a');
