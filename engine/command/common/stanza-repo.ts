import type { Config } from '../../config/config.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import { archiveRange, type ArchiveRange } from '../../repo/archive/archive-path.js';
import { ARCHIVE_INFO_FILE, loadArchiveInfo, type ArchiveInfo } from '../../repo/info/archive-info.js';
import { BACKUP_INFO_FILE, loadBackupInfo, type BackupInfo } from '../../repo/info/backup-info.js';
import { describePg, type PgHistoryEntry } from '../../repo/info/info-pg.js';
import { CIPHER_TYPE } from '../../filter/cipher.js';
import type { RepoCipher } from '../../repo/info-json.js';
import type { Storage } from '../../storage/storage.js';
import { repoCipherPass, repoStorage } from './storages.js';

/** Where a stanza lives in a repository (repo-format 1). */
export function archiveStanzaPath(stanza: string): string {
  return `archive/${stanza}`;
}
export function backupStanzaPath(stanza: string): string {
  return `backup/${stanza}`;
}
export function archiveInfoPath(stanza: string): string {
  return `${archiveStanzaPath(stanza)}/${ARCHIVE_INFO_FILE}`;
}
export function backupInfoPath(stanza: string): string {
  return `${backupStanzaPath(stanza)}/${BACKUP_INFO_FILE}`;
}

/** One configured repository of a stanza. */
export interface StanzaRepo {
  /** The N of repoN. */
  readonly index: number;
  readonly storage: Storage;
  readonly stanza: string;
  /**
   * repoN-cipher-pass when the repository is encrypted (repoN-cipher-type=aes-256-cbc): the
   * passphrase of its info files, which hold the passphrases of everything else.
   */
  readonly cipherPass: string | undefined;
}

export function stanzaRepo(config: Config, index: number, stanza = config.string('stanza')): StanzaRepo {
  return { index, storage: repoStorage(config, index), stanza, cipherPass: repoCipherPass(config, index) };
}

/** What info shows as the repository's cipher. */
export function repoCipherType(repo: StanzaRepo): RepoCipher {
  return repo.cipherPass === undefined ? 'none' : CIPHER_TYPE;
}

export async function loadStanzaArchiveInfo(repo: StanzaRepo): Promise<ArchiveInfo> {
  return (await loadArchiveInfo(repo.storage, archiveInfoPath(repo.stanza), { cipherPass: repo.cipherPass })).value;
}

export async function loadStanzaBackupInfo(repo: StanzaRepo): Promise<BackupInfo> {
  return (await loadBackupInfo(repo.storage, backupInfoPath(repo.stanza), { cipherPass: repo.cipherPass })).value;
}

/**
 * Refuses to work on a stanza that belongs to another cluster: `db` (described by `what`, e.g.
 * "PostgreSQL version '15' and system-id '1'") must be the stanza's current database.
 */
export function checkStanzaMatches(
  what: string,
  db: { systemId: bigint; version: string },
  stanzaDb: { systemId: bigint; version: string },
  repo: StanzaRepo,
  errorName: 'ArchiveMismatch' | 'BackupMismatch' | 'FileInvalid' = 'ArchiveMismatch',
): void {
  if (db.systemId === stanzaDb.systemId && db.version === stanzaDb.version) return;
  throw new PgkeepError(
    errorName,
    `${what} does not match stanza '${repo.stanza}' on repo${repo.index}, which has ${describePg(stanzaDb.systemId, stanzaDb.version)}`,
    {
      hint:
        db.version !== stanzaDb.version
          ? `if PostgreSQL was upgraded, run 'pgkeep stanza-upgrade --stanza=${repo.stanza}'`
          : 'each cluster needs a stanza of its own: check --stanza in archive_command and pg1-path in the configuration',
    },
  );
}

/** archive.info and backup.info of a stanza name the same cluster; FileInvalid (028) otherwise, as pgBackRest. */
export function checkInfoPair(repo: StanzaRepo, archive: PgHistoryEntry, backup: PgHistoryEntry): void {
  if (archive.id === backup.id && archive.systemId === backup.systemId && archive.version === backup.version) return;
  const describe = (entry: PgHistoryEntry) => `history id ${entry.id}, ${describePg(entry.systemId, entry.version)}`;
  throw new PgkeepError(
    'FileInvalid',
    `backup info file and archive info file of stanza '${repo.stanza}' on repo${repo.index} do not match: archive.info has ${describe(archive)}, backup.info has ${describe(backup)}`,
    {
      hint: 'this may be a symptom of repository corruption, or of a stanza-upgrade that did not finish: run stanza-upgrade again',
    },
  );
}

/** The oldest and newest archived segment of an archive id (info, the dashboard). */
export async function archiveIdRange(repo: StanzaRepo, archiveId: string): Promise<ArchiveRange> {
  const base = `${archiveStanzaPath(repo.stanza)}/${archiveId}`;
  const dirs = await repo.storage.list(base, { ignoreMissing: true, filter: /^[0-9A-F]{16}$/ });
  const names = dirs
    .filter((entry) => entry.type === 'path')
    .map((entry) => entry.name)
    .sort();
  // Only the first and last non-empty directories matter.
  const listing = new Map<string, string[]>();
  for (const order of [names, [...names].reverse()]) {
    for (const dir of order) {
      const files = (await repo.storage.list(`${base}/${dir}`, { ignoreMissing: true })).map((entry) => entry.name);
      listing.set(dir, files);
      if (archiveRange(new Map([[dir, files]])).min !== null) break;
    }
  }
  return archiveRange(listing);
}
