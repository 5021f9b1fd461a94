import { PgkeepError } from '../../error/pgkeep-error.js';
import type { Storage } from '../../storage/storage.js';
import { compareBackupLabels, isBackupType, type BackupType } from '../backup/label.js';
import type { Manifest } from '../manifest/manifest.js';
import { FieldContext, unknownKeys } from './info-fields.js';
import {
  loadWithCopyFallback,
  parseInfo,
  PGBACKREST_VERSION,
  readRepoFile,
  renderInfo,
  REPOSITORY_FORMAT,
  saveInfoFile,
  type InfoDocument,
  type LoadedFile,
} from './info-codec.js';
import {
  addPgHistory,
  currentPgEntry,
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
  type BackupPgHistoryEntry,
  type PgSections,
} from './info-pg.js';
import type { JsonObject, JsonValue } from './json-value.js';

/**
 * `backup/<stanza>/backup.info` (repo-format 2.3): the current backups of the stanza, and the
 * clusters (history) they were taken from.
 */

export interface BackupInfoEntry {
  label: string;
  /** `backrest-format` / `backrest-version` of the writer of the backup. */
  backrestFormat: number;
  backrestVersion: string;
  /** `backup-annotation`. */
  annotation?: JsonObject | undefined;
  /** First/last WAL segment the backup needs; null for offline backups. */
  archiveStart: string | null;
  archiveStop: string | null;
  /** `backup-error`: some page failed its checksum; undefined when the writer did not record it. */
  error?: boolean | undefined;
  /** `backup-info-repo-size(-delta)`: repository bytes of all files / of files stored in this backup. */
  repoSize: number;
  repoSizeDelta: number;
  /** Block incremental map sizes (only for block-incremental backups). */
  repoSizeMap?: number | undefined;
  repoSizeMapDelta?: number | undefined;
  /** `backup-info-size(-delta)`: bytes of all files / of files stored in this backup. */
  size: number;
  sizeDelta: number;
  lsnStart?: string | undefined;
  lsnStop?: string | undefined;
  prior?: string | undefined;
  /** Labels this backup references, without itself (diff/incr only). */
  reference?: string[] | undefined;
  timestampStart: number;
  timestampStop: number;
  type: BackupType;
  /** History id in `[db:history]`. */
  dbId: number;
  optionArchiveCheck: boolean;
  optionArchiveCopy: boolean;
  optionBackupStandby: boolean;
  optionChecksumPage: boolean;
  optionCompress: boolean;
  optionHardlink: boolean;
  optionOnline: boolean;
  /** Keys pgkeep does not know, kept for save. */
  unknown?: JsonObject | undefined;
}

export interface BackupInfo extends PgSections<BackupPgHistoryEntry> {
  backrestVersion: string;
  /** `[cipher] cipher-pass` of an encrypted repository: the passphrase of the manifests. */
  cipherPass: string | undefined;
  /** Sorted by label (oldest first). */
  backups: BackupInfoEntry[];
  extraSections: Map<string, Map<string, JsonValue>>;
}

export const BACKUP_INFO_FILE = 'backup.info';
const SECTION_BACKUP_CURRENT = 'backup:current';

const ENTRY_KEYS = new Set([
  'backrest-format',
  'backrest-version',
  'backup-annotation',
  'backup-archive-start',
  'backup-archive-stop',
  'backup-error',
  'backup-info-repo-size',
  'backup-info-repo-size-delta',
  'backup-info-repo-size-map',
  'backup-info-repo-size-map-delta',
  'backup-info-size',
  'backup-info-size-delta',
  'backup-lsn-start',
  'backup-lsn-stop',
  'backup-prior',
  'backup-reference',
  'backup-timestamp-start',
  'backup-timestamp-stop',
  'backup-type',
  'db-id',
  'option-archive-check',
  'option-archive-copy',
  'option-backup-standby',
  'option-checksum-page',
  'option-compress',
  'option-hardlink',
  'option-online',
]);

function readEntry(label: string, value: JsonValue, file: string): BackupInfoEntry {
  const context = new FieldContext(file, `[${SECTION_BACKUP_CURRENT}] ${label}`);
  const o = context.object(value);
  const type = context.string(o['backup-type'], 'backup-type');
  if (!isBackupType(type)) throw context.error(`backup type '${type}' is not full, diff or incr`);
  const annotation = o['backup-annotation'];
  const reference = o['backup-reference'];
  if (reference !== undefined && !(Array.isArray(reference) && reference.every((item) => typeof item === 'string'))) {
    throw context.error("value of 'backup-reference' is not a list of labels");
  }
  const size = (key: string) => {
    const number = context.integer(o[key], key);
    if (number < 0) throw context.error(`value of '${key}' is negative`);
    return number;
  };
  const repoSizeMap = o['backup-info-repo-size-map'] === undefined ? undefined : size('backup-info-repo-size-map');
  return {
    label,
    backrestFormat: context.integer(o['backrest-format'], 'backrest-format'),
    backrestVersion: context.string(o['backrest-version'], 'backrest-version'),
    annotation: annotation === undefined ? undefined : context.object(annotation),
    archiveStart: context.nullableString(o['backup-archive-start'], 'backup-archive-start'),
    archiveStop: context.nullableString(o['backup-archive-stop'], 'backup-archive-stop'),
    error: context.optionalBoolean(o['backup-error'], 'backup-error'),
    repoSize: size('backup-info-repo-size'),
    repoSizeDelta: size('backup-info-repo-size-delta'),
    repoSizeMap,
    repoSizeMapDelta: repoSizeMap === undefined ? undefined : size('backup-info-repo-size-map-delta'),
    size: size('backup-info-size'),
    sizeDelta: size('backup-info-size-delta'),
    lsnStart: context.optionalString(o['backup-lsn-start'], 'backup-lsn-start'),
    lsnStop: context.optionalString(o['backup-lsn-stop'], 'backup-lsn-stop'),
    prior: context.optionalString(o['backup-prior'], 'backup-prior'),
    reference: reference as string[] | undefined,
    timestampStart: context.integer(o['backup-timestamp-start'], 'backup-timestamp-start'),
    timestampStop: context.integer(o['backup-timestamp-stop'], 'backup-timestamp-stop'),
    type,
    dbId: context.integer(o['db-id'], 'db-id'),
    optionArchiveCheck: context.boolean(o['option-archive-check'], 'option-archive-check'),
    optionArchiveCopy: context.boolean(o['option-archive-copy'], 'option-archive-copy'),
    optionBackupStandby: context.boolean(o['option-backup-standby'], 'option-backup-standby'),
    optionChecksumPage: context.boolean(o['option-checksum-page'], 'option-checksum-page'),
    optionCompress: context.boolean(o['option-compress'], 'option-compress'),
    optionHardlink: context.boolean(o['option-hardlink'], 'option-hardlink'),
    optionOnline: context.boolean(o['option-online'], 'option-online'),
    unknown: unknownKeys(o, ENTRY_KEYS),
  };
}

/** The entry as pgBackRest writes it (archive start/stop always, null when offline). */
function entryObject(entry: BackupInfoEntry): JsonObject {
  const object: JsonObject = { ...entry.unknown };
  object['backrest-format'] = entry.backrestFormat;
  object['backrest-version'] = entry.backrestVersion;
  if (entry.annotation !== undefined) object['backup-annotation'] = entry.annotation;
  object['backup-archive-start'] = entry.archiveStart;
  object['backup-archive-stop'] = entry.archiveStop;
  if (entry.error !== undefined) object['backup-error'] = entry.error;
  object['backup-info-repo-size'] = entry.repoSize;
  object['backup-info-repo-size-delta'] = entry.repoSizeDelta;
  if (entry.repoSizeMap !== undefined) {
    object['backup-info-repo-size-map'] = entry.repoSizeMap;
    object['backup-info-repo-size-map-delta'] = entry.repoSizeMapDelta ?? 0;
  }
  object['backup-info-size'] = entry.size;
  object['backup-info-size-delta'] = entry.sizeDelta;
  if (entry.lsnStart !== undefined) object['backup-lsn-start'] = entry.lsnStart;
  if (entry.lsnStop !== undefined) object['backup-lsn-stop'] = entry.lsnStop;
  if (entry.prior !== undefined) object['backup-prior'] = entry.prior;
  if (entry.reference !== undefined) object['backup-reference'] = entry.reference;
  object['backup-timestamp-start'] = entry.timestampStart;
  object['backup-timestamp-stop'] = entry.timestampStop;
  object['backup-type'] = entry.type;
  object['db-id'] = entry.dbId;
  object['option-archive-check'] = entry.optionArchiveCheck;
  object['option-archive-copy'] = entry.optionArchiveCopy;
  object['option-backup-standby'] = entry.optionBackupStandby;
  object['option-checksum-page'] = entry.optionChecksumPage;
  object['option-compress'] = entry.optionCompress;
  object['option-hardlink'] = entry.optionHardlink;
  object['option-online'] = entry.optionOnline;
  return object;
}

export function parseBackupInfo(content: string | Buffer, file: string): BackupInfo {
  return backupInfoFromDocument(parseInfo(content, file), file);
}

export function backupInfoFromDocument(document: InfoDocument, file: string): BackupInfo {
  const backups = [...(document.sections.get(SECTION_BACKUP_CURRENT) ?? [])].map(([label, value]) =>
    readEntry(label, value, file),
  );
  backups.sort((a, b) => compareBackupLabels(a.label, b.label));
  return {
    backrestVersion: document.backrestVersion,
    cipherPass: readCipherPass(document, file),
    ...readPgSections(document, file, 'backup'),
    backups,
    extraSections: takeExtraSections(document, [SECTION_BACKUP_CURRENT, SECTION_CIPHER, SECTION_DB, SECTION_DB_HISTORY]),
  };
}

export function renderBackupInfo(info: BackupInfo): string {
  const document: InfoDocument = { backrestVersion: info.backrestVersion, sections: new Map(info.extraSections) };
  if (info.backups.length > 0)
    document.sections.set(SECTION_BACKUP_CURRENT, new Map(info.backups.map((entry) => [entry.label, entryObject(entry)])));
  writeCipherPass(document, info.cipherPass);
  writePgSections(document, 'backup', info);
  return renderInfo(document);
}

export interface NewBackupInfo {
  readonly systemId: bigint;
  readonly version: string;
  readonly catalogVersion: number;
  /** pg_control version of this PostgreSQL version (1300 for 13 to 16). */
  readonly controlVersion: number;
  readonly cipherPass?: string;
}

/** stanza-create: no backups, history id 1. */
export function newBackupInfo(pg: NewBackupInfo): BackupInfo {
  return {
    backrestVersion: PGBACKREST_VERSION,
    cipherPass: pg.cipherPass,
    currentId: 1,
    history: [
      { id: 1, systemId: pg.systemId, version: pg.version, catalogVersion: pg.catalogVersion, controlVersion: pg.controlVersion },
    ],
    backups: [],
    extraSections: new Map(),
  };
}

/** stanza-upgrade: a new current history entry (id = highest + 1). */
export function backupInfoAddHistory(info: BackupInfo, pg: Omit<NewBackupInfo, 'cipherPass'>): BackupPgHistoryEntry {
  return addPgHistory(info, {
    systemId: pg.systemId,
    version: pg.version,
    catalogVersion: pg.catalogVersion,
    controlVersion: pg.controlVersion,
  });
}

export function backupInfoCurrent(info: BackupInfo): BackupPgHistoryEntry {
  return currentPgEntry(info);
}

/** History entries of this cluster, newest first. */
export function backupInfoFindHistory(info: BackupInfo, systemId: bigint, version: string): BackupPgHistoryEntry[] {
  return findPgHistory(info, systemId, version);
}

export function findBackup(info: BackupInfo, label: string): BackupInfoEntry | undefined {
  return info.backups.find((entry) => entry.label === label);
}

/** Adds the entry (replacing one with the same label), keeping the list sorted by label. */
export function addBackup(info: BackupInfo, entry: BackupInfoEntry): void {
  info.backups = info.backups.filter((item) => item.label !== entry.label);
  info.backups.push(entry);
  info.backups.sort((a, b) => compareBackupLabels(a.label, b.label));
}

/** Removes one entry; returns it, or undefined when there was none. */
export function removeBackup(info: BackupInfo, label: string): BackupInfoEntry | undefined {
  const entry = findBackup(info, label);
  if (entry !== undefined) info.backups = info.backups.filter((item) => item !== entry);
  return entry;
}

/** Labels of the backups that reference this one (they depend on it and expire with it). */
export function backupDependents(info: BackupInfo, label: string): string[] {
  return info.backups
    .filter((entry) => entry.prior === label || (entry.reference?.includes(label) ?? false))
    .map((entry) => entry.label);
}

export interface ManifestSizes {
  size: number;
  sizeDelta: number;
  repoSize: number;
  repoSizeDelta: number;
  repoSizeMap: number;
  repoSizeMapDelta: number;
  /** Some file failed its page checksums. */
  error: boolean;
}

/**
 * The sizes of repo-format 2.3: size sums `size` of all files, repo size sums `repo-size` (or `size`
 * when it is 0), the deltas only files without `reference` (stored in this backup).
 */
export function manifestSizes(manifest: Manifest): ManifestSizes {
  const sizes: ManifestSizes = {
    size: 0,
    sizeDelta: 0,
    repoSize: 0,
    repoSizeDelta: 0,
    repoSizeMap: 0,
    repoSizeMapDelta: 0,
    error: false,
  };
  for (const file of manifest.files.values()) {
    const repoSize = file.sizeRepo > 0 ? file.sizeRepo : file.size;
    const mapSize = file.blockIncrMapSize ?? 0;
    sizes.size += file.size;
    sizes.repoSize += repoSize;
    sizes.repoSizeMap += mapSize;
    if (file.reference === undefined) {
      sizes.sizeDelta += file.size;
      sizes.repoSizeDelta += repoSize;
      sizes.repoSizeMapDelta += mapSize;
    }
    if (file.checksumPage === false) sizes.error = true;
  }
  return sizes;
}

/** The backup.info entry of a finished backup (pgBackRest's infoBackupDataAdd). */
export function backupInfoEntryFromManifest(manifest: Manifest): BackupInfoEntry {
  const { backup, options } = manifest;
  const sizes = manifestSizes(manifest);
  let reference: string[] | undefined;
  if (backup.type !== 'full') {
    reference = [...backup.reference].sort(compareBackupLabels);
    if (reference.at(-1) !== backup.label) {
      throw new PgkeepError('Assert', `backup-reference of '${backup.label}' does not end with its own label`);
    }
    reference.pop();
  }
  return {
    label: backup.label,
    backrestFormat: REPOSITORY_FORMAT,
    backrestVersion: manifest.backrestVersion,
    annotation: manifest.annotation,
    archiveStart: backup.archiveStart ?? null,
    archiveStop: backup.archiveStop ?? null,
    error: sizes.error,
    repoSize: sizes.repoSize,
    repoSizeDelta: sizes.repoSizeDelta,
    repoSizeMap: backup.blockIncr ? sizes.repoSizeMap : undefined,
    repoSizeMapDelta: backup.blockIncr ? sizes.repoSizeMapDelta : undefined,
    size: sizes.size,
    sizeDelta: sizes.sizeDelta,
    lsnStart: backup.lsnStart,
    lsnStop: backup.lsnStop,
    prior: backup.type === 'full' ? undefined : backup.prior,
    reference,
    timestampStart: backup.timestampStart,
    timestampStop: backup.timestampStop,
    type: backup.type,
    dbId: manifest.db.id,
    optionArchiveCheck: options.archiveCheck,
    optionArchiveCopy: options.archiveCopy,
    optionBackupStandby: options.backupStandby ?? false,
    optionChecksumPage: options.checksumPage ?? false,
    optionCompress: options.compressType !== 'none',
    optionHardlink: options.hardlink,
    optionOnline: options.online,
  };
}

export interface LoadOptions {
  /** The repository's passphrase (repo-cipher-pass) when it is encrypted. */
  readonly cipherPass?: string | undefined;
  /** Accept a plain file with `[cipher]` (tools that only show it); default refuses. */
  readonly allowCipherPass?: boolean;
}

/** Loads backup.info (or its .copy), decrypted with the repository's passphrase when it is encrypted. */
export async function loadBackupInfo(storage: Storage, path: string, options: LoadOptions = {}): Promise<LoadedFile<BackupInfo>> {
  const loaded = await loadWithCopyFallback(storage.resolve(path), async (file) =>
    parseBackupInfo(await readRepoFile(storage, file, options.cipherPass), file),
  );
  if (options.allowCipherPass !== true) checkCipherPass(loaded.value.cipherPass, options.cipherPass !== undefined, loaded.file);
  return loaded;
}

/** Writes backup.info then backup.info.copy, as pgBackRest does. */
export async function saveBackupInfo(storage: Storage, path: string, info: BackupInfo, repoCipherPass?: string): Promise<void> {
  await saveInfoFile(storage, path, renderBackupInfo({ ...info, backrestVersion: PGBACKREST_VERSION }), repoCipherPass);
}
