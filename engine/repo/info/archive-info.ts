import { PgkeepError } from '../../error/pgkeep-error.js';
import type { Storage } from '../../storage/storage.js';
import {
  loadWithCopyFallback,
  parseInfo,
  PGBACKREST_VERSION,
  readRepoFile,
  renderInfo,
  saveInfoFile,
  type InfoDocument,
  type LoadedFile,
} from './info-codec.js';
import {
  addPgHistory,
  archiveIdOf,
  currentPgEntry,
  describePg,
  findPgHistory,
  readCipherPass,
  readPgSections,
  checkCipherPass,
  SECTION_CIPHER,
  SECTION_DB,
  SECTION_DB_HISTORY,
  takeExtraSections,
  writeCipherPass,
  writePgSections,
  type PgHistoryEntry,
  type PgSections,
} from './info-pg.js';
import type { JsonValue } from './json-value.js';

/**
 * `archive/<stanza>/archive.info` (repo-format 2.2): which PostgreSQL clusters (system id +
 * version) the stanza's WAL belongs to. Each history entry is an archive id `<version>-<id>`,
 * a directory under the stanza's archive path.
 */
export interface ArchiveInfo extends PgSections<PgHistoryEntry> {
  /** `backrest-version` of the last writer (pgkeep writes PGBACKREST_VERSION). */
  backrestVersion: string;
  /** `[cipher] cipher-pass` of an encrypted repository: the passphrase of the WAL files. */
  cipherPass: string | undefined;
  /** Sections pgkeep does not know, kept as they were. */
  extraSections: Map<string, Map<string, JsonValue>>;
}

export const ARCHIVE_INFO_FILE = 'archive.info';

export function parseArchiveInfo(content: string | Buffer, file: string): ArchiveInfo {
  return archiveInfoFromDocument(parseInfo(content, file), file);
}

export function archiveInfoFromDocument(document: InfoDocument, file: string): ArchiveInfo {
  return {
    backrestVersion: document.backrestVersion,
    cipherPass: readCipherPass(document, file),
    ...readPgSections(document, file, 'archive'),
    extraSections: takeExtraSections(document, [SECTION_CIPHER, SECTION_DB, SECTION_DB_HISTORY]),
  };
}

export function renderArchiveInfo(info: ArchiveInfo): string {
  const document: InfoDocument = { backrestVersion: info.backrestVersion, sections: new Map(info.extraSections) };
  writeCipherPass(document, info.cipherPass);
  writePgSections(document, 'archive', info);
  return renderInfo(document);
}

/** stanza-create: history id 1 for this cluster. */
export function newArchiveInfo(systemId: bigint, version: string, cipherPass?: string): ArchiveInfo {
  return {
    backrestVersion: PGBACKREST_VERSION,
    cipherPass,
    currentId: 1,
    history: [{ id: 1, systemId, version }],
    extraSections: new Map(),
  };
}

/** stanza-upgrade: a new current entry (id = highest + 1). */
export function archiveInfoAddHistory(info: ArchiveInfo, systemId: bigint, version: string): PgHistoryEntry {
  return addPgHistory(info, { systemId, version });
}

export function archiveInfoCurrent(info: ArchiveInfo): PgHistoryEntry {
  return currentPgEntry(info);
}

/** The current archive id, e.g. `15-1`: where archive-push writes. */
export function currentArchiveId(info: ArchiveInfo): string {
  return archiveIdOf(currentPgEntry(info));
}

/** Archive ids of every history entry with this system id and version, newest first (archive-get). */
export function archiveIdsFor(info: ArchiveInfo, systemId: bigint, version: string): string[] {
  return findPgHistory(info, systemId, version).map(archiveIdOf);
}

/**
 * The archive id of a backup.info history entry (pgBackRest's infoArchiveIdHistoryMatch): the
 * entry with the same id, system id and version, else the newest with the same system id and
 * version; ArchiveMismatch when there is none.
 */
export function archiveIdForHistory(info: ArchiveInfo, entry: PgHistoryEntry): string {
  const exact = info.history.find(
    (item) => item.id === entry.id && item.systemId === entry.systemId && item.version === entry.version,
  );
  const match = exact ?? findPgHistory(info, entry.systemId, entry.version)[0];
  if (match === undefined) {
    throw new PgkeepError(
      'ArchiveMismatch',
      `unable to retrieve the archive id for database ${describePg(entry.systemId, entry.version)}`,
      {
        hint: 'archive.info and backup.info describe different clusters: check the stanza, or run stanza-upgrade',
      },
    );
  }
  return archiveIdOf(match);
}

export interface LoadOptions {
  /** The repository's passphrase (repo-cipher-pass) when it is encrypted. */
  readonly cipherPass?: string | undefined;
  /** Accept a plain file with `[cipher]` (tools that only show it); default refuses. */
  readonly allowCipherPass?: boolean;
}

/** Loads archive.info (or its .copy), decrypted with the repository's passphrase when it is encrypted. */
export async function loadArchiveInfo(
  storage: Storage,
  path: string,
  options: LoadOptions = {},
): Promise<LoadedFile<ArchiveInfo>> {
  const loaded = await loadWithCopyFallback(storage.resolve(path), async (file) =>
    parseArchiveInfo(await readRepoFile(storage, file, options.cipherPass), file),
  );
  if (options.allowCipherPass !== true) checkCipherPass(loaded.value.cipherPass, options.cipherPass !== undefined, loaded.file);
  return loaded;
}

/** Writes archive.info then archive.info.copy, as pgBackRest does. */
export async function saveArchiveInfo(storage: Storage, path: string, info: ArchiveInfo, repoCipherPass?: string): Promise<void> {
  await saveInfoFile(storage, path, renderArchiveInfo({ ...info, backrestVersion: PGBACKREST_VERSION }), repoCipherPass);
}
