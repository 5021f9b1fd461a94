import { pipeline, Readable } from 'node:stream';

import { PgkeepError } from '../../error/pgkeep-error.js';
import type { Storage } from '../../storage/storage.js';
import { isBackupType, type BackupType } from '../backup/label.js';
import { CIPHER_MAGIC, DecryptFilter, EncryptFilter, isEncrypted } from '../../filter/cipher.js';
import { isCompressType, type CompressType } from '../../filter/compress-type.js';
import { FieldContext, formatMode, unknownKeys } from '../info/info-fields.js';
import {
  decryptedText,
  encryptedError,
  forEachLine,
  forEachLineSync,
  INFO_COPY_EXT,
  InfoReader,
  InfoWriter,
  loadWithCopyFallback,
  PGBACKREST_VERSION,
  type LoadedFile,
} from '../info/info-codec.js';
import { checkCipherPass } from '../info/info-pg.js';
import {
  compareBytes,
  isJsonObject,
  parseJson,
  renderJson,
  renderJsonString,
  setMember,
  type JsonObject,
  type JsonValue,
} from '../info/json-value.js';

/**
 * `backup.manifest` (repo-format 3): everything about one backup, from its label and options to
 * every file, directory and link of the data directory and tablespaces. The model is built for
 * clusters with hundreds of thousands of files: the file is read line by line, each file entry
 * becomes one small object in a Map keyed by name, and saving streams the text in pieces.
 *
 * Round trip: a manifest written by pgBackRest 2.45 renders back byte for byte. Keys and sections
 * this version does not know (such as `szo` of newer pgBackRest versions) are kept on the entry
 * (`unknown`) or in `extra` and written back in their sorted place, so load + save loses nothing;
 * pgBackRest itself drops them, and tolerates them on load when they sort between known keys.
 */

export type Owner = string | false;

export interface ManifestBackup {
  label: string;
  type: BackupType;
  /** Label of the prior backup (diff/incr). */
  prior?: string | undefined;
  /** `backup-reference`: every label the backup's files live in, in chain order, this label last. */
  reference: string[];
  /** First and last WAL segment the backup needs; absent for offline backups. */
  archiveStart?: string | undefined;
  archiveStop?: string | undefined;
  lsnStart?: string | undefined;
  lsnStop?: string | undefined;
  /** Epoch seconds. copyStart is the DB clock at the end of the manifest build (+1 online). */
  timestampCopyStart: number;
  timestampStart: number;
  timestampStop: number;
  /** `backup-block-incr`, `backup-bundle`, `backup-bundle-raw` (written only when true). */
  blockIncr: boolean;
  bundle: boolean;
  bundleRaw: boolean;
}

export interface ManifestBackupDb {
  catalogVersion: number;
  controlVersion: number;
  /** History id in backup.info `[db:history]`. */
  id: number;
  systemId: bigint;
  version: string;
}

export interface ManifestOptions {
  archiveCheck: boolean;
  archiveCopy: boolean;
  backupStandby?: boolean | undefined;
  bufferSize?: number | undefined;
  checksumPage?: boolean | undefined;
  /** `option-compress-type` (older manifests: gz when `option-compress` is true, else none). */
  compressType: CompressType;
  compressLevel?: number | undefined;
  compressLevelNetwork?: number | undefined;
  delta?: boolean | undefined;
  hardlink: boolean;
  online: boolean;
  processMax?: number | undefined;
}

export interface ManifestTarget {
  /** `pg_data`, `pg_tblspc/<oid>`, or `pg_data/<path>` for another link. */
  name: string;
  type: 'path' | 'link';
  path: string;
  /** File links: the file name (path is then its directory). */
  file?: string | undefined;
  tablespaceId?: number | undefined;
  tablespaceName?: string | undefined;
  unknown?: JsonObject | undefined;
}

export interface ManifestDatabase {
  name: string;
  /** Database oid. */
  id: number;
  lastSystemId: number;
  unknown?: JsonObject | undefined;
}

export interface ManifestFile {
  /** `pg_data/...` or `pg_tblspc/<oid>/...`. */
  name: string;
  /** Bytes as copied. */
  size: number;
  /** Bytes in the repository (compressed/encrypted, or the length in the bundle); equals size when not stored otherwise. */
  sizeRepo: number;
  /** mtime, epoch seconds. */
  timestamp: number;
  /** SHA-1 of the content; undefined for empty files (see fileChecksum). */
  checksum: string | undefined;
  /** `rck`: SHA-1 of the bytes as stored in the repository. */
  checksumRepo: string | undefined;
  /** Label of the backup that holds the file, when it is not this backup. */
  reference: string | undefined;
  user: Owner;
  group: Owner;
  mode: number;
  /** `checksum-page`: true when every page verified, false when some did not. */
  checksumPage?: boolean;
  /** `checksum-page-error`: page numbers and [first, last] ranges that failed. */
  checksumPageError?: JsonValue[];
  /** `bni`/`bno`: bundle id and byte offset in `bundle/<id>`. */
  bundleId?: number;
  bundleOffset?: number;
  /** Block incremental (beta in 2.45): block size in bytes (`bi` x 8192), checksum size (`bic`), map size (`bim`). */
  blockIncrSize?: number;
  blockIncrChecksumSize?: number;
  blockIncrMapSize?: number;
  unknown?: JsonObject;
}

export interface ManifestPath {
  name: string;
  user: Owner;
  group: Owner;
  mode: number;
  unknown?: JsonObject | undefined;
}

export interface ManifestLink {
  /** The link's own name, e.g. `pg_data/pg_tblspc/16384`. */
  name: string;
  destination: string;
  user: Owner;
  group: Owner;
  unknown?: JsonObject | undefined;
}

export interface Manifest {
  backrestVersion: string;
  backup: ManifestBackup;
  db: ManifestBackupDb;
  options: ManifestOptions;
  targets: Map<string, ManifestTarget>;
  /** `[cipher] cipher-pass`: the passphrase of this backup's files in an encrypted repository. */
  cipherPass: string | undefined;
  databases: Map<string, ManifestDatabase>;
  /** `[metadata] annotation`. */
  annotation: JsonObject | undefined;
  files: Map<string, ManifestFile>;
  links: Map<string, ManifestLink>;
  paths: Map<string, ManifestPath>;
  /**
   * Sections this version does not know, and unknown keys of the scalar sections (`[backup]`,
   * `[backup:option]`, ...): section -> key -> value. Unknown keys of entries are on the entries.
   */
  extra: Map<string, Map<string, JsonValue>>;
  /**
   * The backup uses block incremental (`backup-block-incr=true` or a file with `bi`), computed on
   * load. pgkeep cannot restore such backups (see assertRestorable).
   */
  blockIncremental: boolean;
}

export const MANIFEST_FILE = 'backup.manifest';
/** Length of OpenSSL's `Salted__` magic that starts encrypted files. */
/** SHA-1 of empty content: the implied checksum of zero-length files. */
export const SHA1_EMPTY = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
/** `bi` counts blocks of this many bytes. */
export const BLOCK_INCR_SIZE_FACTOR = 8192;
/** `bic` is written only when it differs from this. */
export const BLOCK_INCR_CHECKSUM_SIZE_MIN = 6;

const S_BACKUP = 'backup';
const S_BACKUP_DB = 'backup:db';
const S_BACKUP_OPTION = 'backup:option';
const S_BACKUP_TARGET = 'backup:target';
const S_CIPHER = 'cipher';
const S_DB = 'db';
const S_METADATA = 'metadata';
const S_FILE = 'target:file';
const S_FILE_DEFAULT = 'target:file:default';
const S_LINK = 'target:link';
const S_LINK_DEFAULT = 'target:link:default';
const S_PATH = 'target:path';
const S_PATH_DEFAULT = 'target:path:default';

/** Sections of key/values with scalar meaning, collected while reading and decoded at the end. */
const SCALAR_KEYS: Record<string, readonly string[]> = {
  [S_BACKUP]: [
    'backup-archive-start',
    'backup-archive-stop',
    'backup-block-incr',
    'backup-bundle',
    'backup-bundle-raw',
    'backup-label',
    'backup-lsn-start',
    'backup-lsn-stop',
    'backup-prior',
    'backup-reference',
    'backup-timestamp-copy-start',
    'backup-timestamp-start',
    'backup-timestamp-stop',
    'backup-type',
  ],
  [S_BACKUP_DB]: ['db-catalog-version', 'db-control-version', 'db-id', 'db-system-id', 'db-version'],
  [S_BACKUP_OPTION]: [
    'option-archive-check',
    'option-archive-copy',
    'option-backup-standby',
    'option-buffer-size',
    'option-checksum-page',
    'option-compress',
    'option-compress-level',
    'option-compress-level-network',
    'option-compress-type',
    'option-delta',
    'option-hardlink',
    'option-online',
    'option-process-max',
  ],
  [S_CIPHER]: ['cipher-pass'],
  [S_METADATA]: ['annotation'],
  [S_FILE_DEFAULT]: ['group', 'mode', 'user'],
  [S_LINK_DEFAULT]: ['group', 'user'],
  [S_PATH_DEFAULT]: ['group', 'mode', 'user'],
};

const FILE_KEYS = new Set([
  'bi',
  'bic',
  'bim',
  'bni',
  'bno',
  'checksum',
  'checksum-page',
  'checksum-page-error',
  'group',
  'mode',
  'rck',
  'reference',
  'repo-size',
  'size',
  'timestamp',
  'user',
]);
const TARGET_KEYS = new Set(['file', 'path', 'tablespace-id', 'tablespace-name', 'type']);
const DB_KEYS = new Set(['db-id', 'db-last-system-id']);
const PATH_KEYS = new Set(['group', 'mode', 'user']);
const LINK_KEYS = new Set(['destination', 'group', 'user']);

// ------------------------------------------------------------------------------------------------
// Reading

/** Owner/mode before defaults are applied: undefined means "the section default". */
interface PendingOwnership {
  user: Owner | undefined;
  group: Owner | undefined;
  mode?: number | undefined;
}
type Pending<T> = Omit<T, 'user' | 'group' | 'mode'> & PendingOwnership;

class ManifestLoader {
  readonly scalars = new Map<string, Map<string, JsonValue>>();
  readonly extra = new Map<string, Map<string, JsonValue>>();
  readonly targets = new Map<string, ManifestTarget>();
  readonly databases = new Map<string, ManifestDatabase>();
  readonly files = new Map<string, ManifestFile>();
  readonly links = new Map<string, ManifestLink>();
  readonly paths = new Map<string, ManifestPath>();
  /** One string per distinct label so 100k file references share it. */
  private readonly references = new Map<string, string>();
  private readonly owners = new Map<string, string>();
  /** Entries that take user, group or mode from a default section, which comes after them in the file. */
  private readonly pending: { entry: PendingOwnership; section: string }[] = [];
  anyBlockIncr = false;
  readonly reader: InfoReader;

  constructor(readonly fileName: string) {
    this.reader = new InfoReader(fileName, (section, key, value, line) => this.value(section, key, value, line));
  }

  private value(section: string, key: string, value: JsonValue, line: number): void {
    switch (section) {
      case S_FILE:
        this.file(key, value, line);
        return;
      case S_PATH:
        this.path(key, value, line);
        return;
      case S_LINK:
        this.link(key, value, line);
        return;
      case S_BACKUP_TARGET:
        this.target(key, value, line);
        return;
      case S_DB:
        this.database(key, value, line);
        return;
    }
    const known = SCALAR_KEYS[section];
    const store = known !== undefined && known.includes(key) ? this.scalars : this.extra;
    let keys = store.get(section);
    if (keys === undefined) store.set(section, (keys = new Map()));
    keys.set(key, value);
  }

  private context(section: string, key: string, line: number): FieldContext {
    return new FieldContext(this.fileName, `[${section}] '${key}' (line ${line})`);
  }

  private owner(value: JsonValue | undefined, section: string, key: string, field: string, line: number): Owner | undefined {
    if (value === undefined || value === false) return value;
    if (typeof value !== 'string') throw this.context(section, key, line).error(`value of '${field}' is not a name or false`);
    let shared = this.owners.get(value);
    if (shared === undefined) this.owners.set(value, (shared = value));
    return shared;
  }

  private file(name: string, value: JsonValue, line: number): void {
    if (!isJsonObject(value)) throw this.context(S_FILE, name, line).error('expected a JSON object');
    const size = value['size'];
    const timestamp = value['timestamp'];
    if (typeof size !== 'number' || size < 0)
      throw this.context(S_FILE, name, line).error(
        size === undefined ? "missing key 'size'" : "value of 'size' is not an integer",
      );
    if (typeof timestamp !== 'number') {
      throw this.context(S_FILE, name, line).error(
        timestamp === undefined ? "missing key 'timestamp'" : "value of 'timestamp' is not an integer",
      );
    }
    const repoSize = value['repo-size'];
    const checksum = value['checksum'];
    const checksumRepo = value['rck'];
    const reference = value['reference'];
    const mode = value['mode'];
    const pending: Pending<ManifestFile> = {
      name,
      size,
      sizeRepo: repoSize === undefined ? size : this.integer(repoSize, S_FILE, name, 'repo-size', line),
      timestamp,
      checksum: size === 0 ? undefined : this.hex(checksum, name, 'checksum', line),
      checksumRepo: this.hex(checksumRepo, name, 'rck', line),
      reference: reference === undefined ? undefined : this.reference(reference, name, line),
      user: this.owner(value['user'], S_FILE, name, 'user', line),
      group: this.owner(value['group'], S_FILE, name, 'group', line),
      mode: mode === undefined ? undefined : this.context(S_FILE, name, line).mode(mode, 'mode'),
    };
    const file = pending as ManifestFile & Pending<ManifestFile>;
    const checksumPage = value['checksum-page'];
    if (checksumPage !== undefined) {
      file.checksumPage =
        typeof checksumPage === 'boolean'
          ? checksumPage
          : this.context(S_FILE, name, line).boolean(checksumPage, 'checksum-page');
    }
    const pageError = value['checksum-page-error'];
    if (pageError !== undefined) {
      if (!Array.isArray(pageError))
        throw this.context(S_FILE, name, line).error("value of 'checksum-page-error' is not an array");
      file.checksumPageError = pageError;
    }
    if (value['bni'] !== undefined) file.bundleId = this.integer(value['bni'], S_FILE, name, 'bni', line);
    if (value['bno'] !== undefined) file.bundleOffset = this.integer(value['bno'], S_FILE, name, 'bno', line);
    if (value['bi'] !== undefined) {
      file.blockIncrSize = this.integer(value['bi'], S_FILE, name, 'bi', line) * BLOCK_INCR_SIZE_FACTOR;
      this.anyBlockIncr = true;
    }
    if (value['bic'] !== undefined) file.blockIncrChecksumSize = this.integer(value['bic'], S_FILE, name, 'bic', line);
    if (value['bim'] !== undefined) file.blockIncrMapSize = this.integer(value['bim'], S_FILE, name, 'bim', line);
    const unknown = unknownKeys(value, FILE_KEYS);
    if (unknown !== undefined) file.unknown = unknown;
    this.files.set(name, file);
    if (pending.user === undefined || pending.group === undefined || pending.mode === undefined)
      this.pending.push({ entry: pending, section: S_FILE_DEFAULT });
  }

  private integer(value: JsonValue, section: string, key: string, field: string, line: number): number {
    if (typeof value === 'number' && value >= 0) return value; // the hot path: no context object
    const context = this.context(section, key, line);
    context.integer(value, field); // throws for what is not an integer
    throw context.error(`value of '${field}' is negative`);
  }

  private hex(value: JsonValue | undefined, name: string, field: string, line: number): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !/^[0-9a-f]{40}$/.test(value)) {
      throw this.context(S_FILE, name, line).error(`value of '${field}' is not a SHA-1 in lower-case hex`);
    }
    return value;
  }

  private reference(value: JsonValue, name: string, line: number): string {
    if (typeof value !== 'string') throw this.context(S_FILE, name, line).error("value of 'reference' is not a string");
    let shared = this.references.get(value);
    if (shared === undefined) this.references.set(value, (shared = value));
    return shared;
  }

  referenceLabels(): string[] {
    return [...this.references.keys()];
  }

  private path(name: string, value: JsonValue, line: number): void {
    const context = this.context(S_PATH, name, line);
    const object = context.object(value);
    const path: Pending<ManifestPath> = {
      name,
      user: this.owner(object['user'], S_PATH, name, 'user', line),
      group: this.owner(object['group'], S_PATH, name, 'group', line),
      mode: object['mode'] === undefined ? undefined : context.mode(object['mode'], 'mode'),
      unknown: unknownKeys(object, PATH_KEYS),
    };
    this.paths.set(name, path as ManifestPath);
    if (path.user === undefined || path.group === undefined || path.mode === undefined)
      this.pending.push({ entry: path, section: S_PATH_DEFAULT });
  }

  private link(name: string, value: JsonValue, line: number): void {
    const context = this.context(S_LINK, name, line);
    const object = context.object(value);
    const link: Pending<ManifestLink> = {
      name,
      destination: context.string(object['destination'], 'destination'),
      user: this.owner(object['user'], S_LINK, name, 'user', line),
      group: this.owner(object['group'], S_LINK, name, 'group', line),
      unknown: unknownKeys(object, LINK_KEYS),
    };
    this.links.set(name, link as ManifestLink);
    if (link.user === undefined || link.group === undefined) this.pending.push({ entry: link, section: S_LINK_DEFAULT });
  }

  private target(name: string, value: JsonValue, line: number): void {
    const context = this.context(S_BACKUP_TARGET, name, line);
    const object = context.object(value);
    const type = context.string(object['type'], 'type');
    if (type !== 'path' && type !== 'link') throw context.error(`target type '${type}' is not 'path' or 'link'`);
    const tablespaceId = context.optionalString(object['tablespace-id'], 'tablespace-id');
    if (tablespaceId !== undefined && !/^[0-9]+$/.test(tablespaceId))
      throw context.error(`tablespace-id '${tablespaceId}' is not an oid`);
    this.targets.set(name, {
      name,
      type,
      path: context.string(object['path'], 'path'),
      file: context.optionalString(object['file'], 'file'),
      tablespaceId: tablespaceId === undefined ? undefined : Number(tablespaceId),
      tablespaceName:
        tablespaceId === undefined
          ? context.optionalString(object['tablespace-name'], 'tablespace-name')
          : context.string(object['tablespace-name'], 'tablespace-name'),
      unknown: unknownKeys(object, TARGET_KEYS),
    });
  }

  private database(name: string, value: JsonValue, line: number): void {
    const context = this.context(S_DB, name, line);
    const object = context.object(value);
    this.databases.set(name, {
      name,
      id: context.integer(object['db-id'], 'db-id'),
      lastSystemId: context.integer(object['db-last-system-id'], 'db-last-system-id'),
      unknown: unknownKeys(object, DB_KEYS),
    });
  }

  finish(): Manifest {
    const header = this.reader.end();
    const scalar = (section: string) => this.scalars.get(section) ?? new Map<string, JsonValue>();
    const sectionContext = (section: string) => new FieldContext(this.fileName, `[${section}]`);

    const b = scalar(S_BACKUP);
    const bc = sectionContext(S_BACKUP);
    const label = bc.string(b.get('backup-label'), 'backup-label');
    const type = bc.string(b.get('backup-type'), 'backup-type');
    if (!isBackupType(type)) throw bc.error(`backup type '${type}' is not full, diff or incr`);
    const referenceText = bc.optionalString(b.get('backup-reference'), 'backup-reference');
    // Manifests before 2.42 have no backup-reference: derive it from the files, as pgBackRest does
    const reference = referenceText !== undefined ? referenceText.split(',') : [...this.referenceLabels()].sort(compareBytes);
    if (!reference.includes(label)) reference.push(label);
    const backup: ManifestBackup = {
      label,
      type,
      prior: bc.optionalString(b.get('backup-prior'), 'backup-prior'),
      reference,
      archiveStart: bc.optionalString(b.get('backup-archive-start'), 'backup-archive-start'),
      archiveStop: bc.optionalString(b.get('backup-archive-stop'), 'backup-archive-stop'),
      lsnStart: bc.optionalString(b.get('backup-lsn-start'), 'backup-lsn-start'),
      lsnStop: bc.optionalString(b.get('backup-lsn-stop'), 'backup-lsn-stop'),
      timestampCopyStart: bc.optionalInteger(b.get('backup-timestamp-copy-start'), 'backup-timestamp-copy-start') ?? 0,
      timestampStart: bc.integer(b.get('backup-timestamp-start'), 'backup-timestamp-start'),
      timestampStop: bc.integer(b.get('backup-timestamp-stop'), 'backup-timestamp-stop'),
      blockIncr: bc.optionalBoolean(b.get('backup-block-incr'), 'backup-block-incr') ?? false,
      bundle: bc.optionalBoolean(b.get('backup-bundle'), 'backup-bundle') ?? false,
      bundleRaw: bc.optionalBoolean(b.get('backup-bundle-raw'), 'backup-bundle-raw') ?? false,
    };

    const d = scalar(S_BACKUP_DB);
    const dc = sectionContext(S_BACKUP_DB);
    const db: ManifestBackupDb = {
      catalogVersion: dc.integer(d.get('db-catalog-version'), 'db-catalog-version'),
      controlVersion: dc.integer(d.get('db-control-version'), 'db-control-version'),
      id: dc.integer(d.get('db-id'), 'db-id'),
      systemId: dc.bigint(d.get('db-system-id'), 'db-system-id'),
      version: dc.string(d.get('db-version'), 'db-version'),
    };

    const o = scalar(S_BACKUP_OPTION);
    const oc = sectionContext(S_BACKUP_OPTION);
    const compress = oc.boolean(o.get('option-compress'), 'option-compress');
    const compressTypeText =
      oc.optionalString(o.get('option-compress-type'), 'option-compress-type') ?? (compress ? 'gz' : 'none');
    if (!isCompressType(compressTypeText)) throw oc.error(`compress type '${compressTypeText}' is not known`);
    const options: ManifestOptions = {
      archiveCheck: oc.boolean(o.get('option-archive-check'), 'option-archive-check'),
      archiveCopy: oc.boolean(o.get('option-archive-copy'), 'option-archive-copy'),
      backupStandby: oc.optionalBoolean(o.get('option-backup-standby'), 'option-backup-standby'),
      bufferSize: oc.optionalInteger(o.get('option-buffer-size'), 'option-buffer-size'),
      checksumPage: oc.optionalBoolean(o.get('option-checksum-page'), 'option-checksum-page'),
      compressType: compressTypeText,
      compressLevel: oc.optionalInteger(o.get('option-compress-level'), 'option-compress-level'),
      compressLevelNetwork: oc.optionalInteger(o.get('option-compress-level-network'), 'option-compress-level-network'),
      delta: oc.optionalBoolean(o.get('option-delta'), 'option-delta'),
      hardlink: oc.boolean(o.get('option-hardlink'), 'option-hardlink'),
      online: oc.boolean(o.get('option-online'), 'option-online'),
      processMax: oc.optionalInteger(o.get('option-process-max'), 'option-process-max'),
    };

    const annotationValue = scalar(S_METADATA).get('annotation');
    if (annotationValue !== undefined && !isJsonObject(annotationValue))
      throw sectionContext(S_METADATA).error("value of 'annotation' is not an object");

    this.applyDefaults();

    return {
      backrestVersion: header.backrestVersion ?? PGBACKREST_VERSION,
      backup,
      db,
      options,
      targets: this.targets,
      cipherPass: sectionContext(S_CIPHER).optionalString(scalar(S_CIPHER).get('cipher-pass'), 'cipher-pass'),
      databases: this.databases,
      annotation: annotationValue,
      files: this.files,
      links: this.links,
      paths: this.paths,
      extra: this.extra,
      blockIncremental: backup.blockIncr || this.anyBlockIncr,
    };
  }

  /** Fills user/group/mode left out of entries from the `*:default` sections. */
  private applyDefaults(): void {
    const cache = new Map<string, { user: () => Owner; group: () => Owner; mode: () => number }>();
    const defaults = (section: string) => {
      let value = cache.get(section);
      if (value === undefined) {
        const keys = this.scalars.get(section) ?? new Map<string, JsonValue>();
        const context = new FieldContext(this.fileName, `[${section}]`);
        // Reading a default is an error only when an entry actually needs it
        const get = <T>(key: string, read: (value: JsonValue, key: string) => T) =>
          once(() => {
            const raw = keys.get(key);
            return raw === undefined ? failMissing(context, key) : read(raw, key);
          });
        value = {
          user: get('user', (raw, key) => context.owner(raw, key)),
          group: get('group', (raw, key) => context.owner(raw, key)),
          mode: get('mode', (raw, key) => context.mode(raw, key)),
        };
        cache.set(section, value);
      }
      return value;
    };
    for (const { entry, section } of this.pending) {
      const value = defaults(section);
      if (entry.user === undefined) entry.user = value.user();
      if (entry.group === undefined) entry.group = value.group();
      if (entry.mode === undefined && section !== S_LINK_DEFAULT) entry.mode = value.mode();
    }
  }
}

function failMissing(context: FieldContext, key: string): never {
  throw context.error(`missing default '${key}'`);
}

function once<T>(compute: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value;
  };
}

/** Parses a whole manifest held in memory (tests, small manifests). */
export function parseManifest(content: string | Buffer, fileName: string): Manifest {
  const loader = new ManifestLoader(fileName);
  forEachLineSync(typeof content === 'string' ? Buffer.from(content, 'utf8') : content, (line) => loader.reader.line(line));
  return loader.finish();
}

/** Parses a manifest from a stream of bytes, line by line. */
export async function parseManifestStream(source: AsyncIterable<Uint8Array | string>, fileName: string): Promise<Manifest> {
  const loader = new ManifestLoader(fileName);
  await forEachLine(source, (line) => loader.reader.line(line));
  return loader.finish();
}

// ------------------------------------------------------------------------------------------------
// Writing

/** The defaults pgBackRest writes: owner and mode of pg_data, file mode = pg_data mode & 0640. */
function saveDefaults(manifest: Manifest): { user: Owner; group: Owner; fileMode: number; pathMode: number } {
  const base = manifest.paths.get('pg_data');
  if (base === undefined) throw new PgkeepError('Assert', `manifest of backup '${manifest.backup.label}' has no pg_data path`);
  return { user: base.user, group: base.group, fileMode: base.mode & 0o640, pathMode: base.mode };
}

function renderOwner(owner: Owner): string {
  return owner === false ? 'false' : renderJsonString(owner);
}

function sortedNames(map: ReadonlyMap<string, unknown>): string[] {
  const names = [...map.keys()];
  for (let index = 1; index < names.length; index++) {
    if (compareBytes(names[index - 1]!, names[index]!) >= 0) return names.sort(compareBytes);
  }
  return names;
}

/** Renders an object value of known members plus unknown ones, all in byte order. */
function renderWithUnknown(known: JsonObject, unknown: JsonObject | undefined): string {
  return renderJson(unknown === undefined ? known : { ...unknown, ...known });
}

function renderFile(file: ManifestFile, defaults: ReturnType<typeof saveDefaults>): string {
  const known = renderKnownFile(file, defaults);
  // Unknown keys are rare (a newer writer): merge them into the known members in byte order
  return file.unknown === undefined ? known : renderWithUnknown(parseJson(known) as JsonObject, file.unknown);
}

/** The members pgBackRest 2.45 writes, hand-built in key order: this runs for every file of the cluster. */
function renderKnownFile(file: ManifestFile, defaults: ReturnType<typeof saveDefaults>): string {
  let out = '{';
  if (file.blockIncrSize !== undefined && file.blockIncrSize !== 0) out += `"bi":${file.blockIncrSize / BLOCK_INCR_SIZE_FACTOR},`;
  if (file.blockIncrChecksumSize !== undefined && file.blockIncrChecksumSize !== BLOCK_INCR_CHECKSUM_SIZE_MIN)
    out += `"bic":${file.blockIncrChecksumSize},`;
  if (file.blockIncrMapSize !== undefined && file.blockIncrMapSize !== 0) out += `"bim":${file.blockIncrMapSize},`;
  if (file.bundleId !== undefined && file.bundleId !== 0) {
    out += `"bni":${file.bundleId},`;
    if (file.bundleOffset !== undefined && file.bundleOffset !== 0) out += `"bno":${file.bundleOffset},`;
  }
  if (file.size !== 0 && file.checksum !== undefined) out += `"checksum":"${file.checksum}",`;
  if (file.checksumPage !== undefined) {
    out += `"checksum-page":${file.checksumPage},`;
    if (file.checksumPageError !== undefined) out += `"checksum-page-error":${renderJson(file.checksumPageError)},`;
  }
  if (file.group !== defaults.group) out += `"group":${renderOwner(file.group)},`;
  if (file.mode !== defaults.fileMode) out += `"mode":"${formatMode(file.mode)}",`;
  if (file.checksumRepo !== undefined) out += `"rck":"${file.checksumRepo}",`;
  if (file.reference !== undefined) out += `"reference":${renderJsonString(file.reference)},`;
  if (file.sizeRepo !== file.size) out += `"repo-size":${file.sizeRepo},`;
  out += `"size":${file.size},"timestamp":${file.timestamp}`;
  if (file.user !== defaults.user) out += `,"user":${renderOwner(file.user)}`;
  return `${out}}`;
}

function optional(object: JsonObject, key: string, value: JsonValue | undefined): void {
  if (value !== undefined) setMember(object, key, value);
}

/** The scalar sections as key -> value, known keys only. */
function scalarSections(manifest: Manifest, defaults: ReturnType<typeof saveDefaults>): Map<string, JsonObject> {
  const { backup, db, options } = manifest;
  const sections = new Map<string, JsonObject>();

  const b: JsonObject = {};
  optional(b, 'backup-archive-start', backup.archiveStart);
  optional(b, 'backup-archive-stop', backup.archiveStop);
  if (backup.blockIncr) b['backup-block-incr'] = true;
  if (backup.bundle) {
    b['backup-bundle'] = true;
    if (backup.bundleRaw) b['backup-bundle-raw'] = true;
  }
  b['backup-label'] = backup.label;
  optional(b, 'backup-lsn-start', backup.lsnStart);
  optional(b, 'backup-lsn-stop', backup.lsnStop);
  optional(b, 'backup-prior', backup.prior);
  b['backup-reference'] = backup.reference.join(',');
  b['backup-timestamp-copy-start'] = backup.timestampCopyStart;
  b['backup-timestamp-start'] = backup.timestampStart;
  b['backup-timestamp-stop'] = backup.timestampStop;
  b['backup-type'] = backup.type;
  sections.set(S_BACKUP, b);

  sections.set(S_BACKUP_DB, {
    'db-catalog-version': db.catalogVersion,
    'db-control-version': db.controlVersion,
    'db-id': db.id,
    'db-system-id': db.systemId,
    'db-version': db.version,
  });

  const o: JsonObject = { 'option-archive-check': options.archiveCheck, 'option-archive-copy': options.archiveCopy };
  optional(o, 'option-backup-standby', options.backupStandby);
  optional(o, 'option-buffer-size', options.bufferSize);
  optional(o, 'option-checksum-page', options.checksumPage);
  o['option-compress'] = options.compressType !== 'none';
  optional(o, 'option-compress-level', options.compressLevel);
  optional(o, 'option-compress-level-network', options.compressLevelNetwork);
  o['option-compress-type'] = options.compressType;
  optional(o, 'option-delta', options.delta);
  o['option-hardlink'] = options.hardlink;
  o['option-online'] = options.online;
  optional(o, 'option-process-max', options.processMax);
  sections.set(S_BACKUP_OPTION, o);

  if (manifest.cipherPass !== undefined) sections.set(S_CIPHER, { 'cipher-pass': manifest.cipherPass });
  if (manifest.annotation !== undefined) sections.set(S_METADATA, { annotation: manifest.annotation });
  if (manifest.files.size > 0)
    sections.set(S_FILE_DEFAULT, { group: defaults.group, mode: formatMode(defaults.fileMode), user: defaults.user });
  if (manifest.links.size > 0) sections.set(S_LINK_DEFAULT, { group: defaults.group, user: defaults.user });
  sections.set(S_PATH_DEFAULT, { group: defaults.group, mode: formatMode(defaults.pathMode), user: defaults.user });
  return sections;
}

/** Pieces of about this many characters are handed out while rendering. */
const CHUNK_SIZE = 256 * 1024;

/**
 * Renders the manifest as pgBackRest 2.45 writes it, in pieces of text (a manifest of a large
 * cluster is never one string in memory). Sections and keys in byte order, `[backrest]` first.
 */
export function* renderManifestChunks(manifest: Manifest): Generator<string> {
  const defaults = saveDefaults(manifest);
  const scalars = scalarSections(manifest, defaults);
  const writer = new InfoWriter(manifest.backrestVersion);

  const entrySections = new Map<string, () => Iterable<[string, string]>>([
    [S_BACKUP_TARGET, () => entries(manifest.targets, (target) => renderTarget(target))],
    [
      S_DB,
      () =>
        entries(manifest.databases, (database) =>
          renderWithUnknown({ 'db-id': database.id, 'db-last-system-id': database.lastSystemId }, database.unknown),
        ),
    ],
    [S_FILE, () => entries(manifest.files, (file) => renderFile(file, defaults))],
    [S_LINK, () => entries(manifest.links, (link) => renderLink(link, defaults))],
    [S_PATH, () => entries(manifest.paths, (path) => renderPath(path, defaults))],
  ]);
  const sectionNames = new Set<string>([...scalars.keys(), ...manifest.extra.keys()]);
  for (const [name, map] of [
    [S_BACKUP_TARGET, manifest.targets],
    [S_DB, manifest.databases],
    [S_FILE, manifest.files],
    [S_LINK, manifest.links],
    [S_PATH, manifest.paths],
  ] as const) {
    if (map.size > 0) sectionNames.add(name);
  }

  for (const section of [...sectionNames].sort(compareBytes)) {
    const render = entrySections.get(section);
    if (render !== undefined) {
      for (const [key, raw] of render()) {
        writer.value(section, key, raw);
        if (writer.pendingLength >= CHUNK_SIZE) yield writer.take();
      }
      continue;
    }
    const merged: JsonObject = {};
    for (const [key, value] of manifest.extra.get(section) ?? []) setMember(merged, key, value);
    for (const [key, value] of Object.entries(scalars.get(section) ?? {})) setMember(merged, key, value);
    for (const key of Object.keys(merged).sort(compareBytes)) writer.value(section, key, renderJson(merged[key]!));
  }
  yield writer.finish();
}

function* entries<T>(map: ReadonlyMap<string, T>, render: (entry: T) => string): Generator<[string, string]> {
  for (const name of sortedNames(map)) yield [name, render(map.get(name)!)];
}

function renderTarget(target: ManifestTarget): string {
  const object: JsonObject = {};
  optional(object, 'file', target.file);
  object['path'] = target.path;
  if (target.tablespaceId !== undefined && target.tablespaceId !== 0) object['tablespace-id'] = String(target.tablespaceId);
  optional(object, 'tablespace-name', target.tablespaceName);
  object['type'] = target.type;
  return renderWithUnknown(object, target.unknown);
}

function renderLink(link: ManifestLink, defaults: ReturnType<typeof saveDefaults>): string {
  const object: JsonObject = { destination: link.destination };
  if (link.group !== defaults.group) object['group'] = link.group;
  if (link.user !== defaults.user) object['user'] = link.user;
  return renderWithUnknown(object, link.unknown);
}

function renderPath(path: ManifestPath, defaults: ReturnType<typeof saveDefaults>): string {
  if (
    path.unknown === undefined &&
    path.group === defaults.group &&
    path.user === defaults.user &&
    path.mode === defaults.pathMode
  )
    return '{}';
  const object: JsonObject = {};
  if (path.group !== defaults.group) object['group'] = path.group;
  if (path.mode !== defaults.pathMode) object['mode'] = formatMode(path.mode);
  if (path.user !== defaults.user) object['user'] = path.user;
  return renderWithUnknown(object, path.unknown);
}

/** The whole manifest text (tests and small manifests; saving streams renderManifestChunks). */
export function renderManifest(manifest: Manifest): string {
  let text = '';
  for (const chunk of renderManifestChunks(manifest)) text += chunk;
  return text;
}

// ------------------------------------------------------------------------------------------------
// Model helpers

/** The content checksum of a file, with the implied SHA-1 of empty content for size 0. */
export function fileChecksum(file: ManifestFile): string | undefined {
  return file.size === 0 ? SHA1_EMPTY : file.checksum;
}

/** `checksum-page=false`: some page failed its checksum during the backup. */
export function fileHasPageError(file: ManifestFile): boolean {
  return file.checksumPage === false;
}

/**
 * Restore refuses what pgkeep cannot read yet: block-incremental backups (a beta format in 2.45
 * that changed later).
 */
export function assertRestorable(manifest: Manifest): void {
  if (
    manifest.blockIncremental ||
    manifest.backup.blockIncr ||
    [...manifest.files.values()].some((file) => file.blockIncrSize !== undefined)
  ) {
    throw new PgkeepError(
      'FeatureNotSupported',
      `backup '${manifest.backup.label}' uses block incremental, which pgkeep cannot restore yet`,
      {
        hint: 'restore this backup with pgBackRest, or take a new backup without repo-block=y',
      },
    );
  }
}

/** The label of the backup whose directory holds the file's data. */
export function manifestReferenceLabel(manifest: Manifest, file: ManifestFile): string {
  return file.reference ?? manifest.backup.label;
}

// ------------------------------------------------------------------------------------------------
// Files in storage

/**
 * Reads one manifest file (no `.copy` fallback): a backup's checkpoint is read this way when
 * resuming. `cipherPass` is backup.info's passphrase in an encrypted repository.
 */
export async function readManifestFile(storage: Storage, file: string, cipherPass?: string): Promise<Manifest> {
  const stream = await storage.read(file, { ignoreMissing: true });
  if (stream === undefined) throw new PgkeepError('FileMissing', `unable to open missing file '${file}' for read`);
  let manifest: Manifest;
  if (cipherPass !== undefined) {
    // pipeline() with a callback returns the decrypted stream, and ends it with the first error.
    manifest = await parseManifestStream(
      decryptedText(
        pipeline(stream, new DecryptFilter(cipherPass, file), () => {}),
        file,
      ),
      file,
    );
  } else {
    // The first bytes may arrive in several chunks: look at 8 of them before passing anything on
    async function* checked(): AsyncGenerator<Uint8Array> {
      let head: Buffer | undefined = Buffer.alloc(0);
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        if (head === undefined) {
          yield chunk;
          continue;
        }
        head = Buffer.concat([head, chunk]);
        if (head.length < CIPHER_MAGIC.length) continue;
        if (isEncrypted(head)) throw encryptedError(file);
        yield head;
        head = undefined;
      }
      if (head !== undefined && head.length > 0) yield head;
    }
    manifest = await parseManifestStream(checked(), file);
  }
  checkCipherPass(manifest.cipherPass, cipherPass !== undefined, file);
  return manifest;
}

/** Loads `<path>` or, when it is missing or invalid, `<path>.copy`. */
export async function loadManifestFile(storage: Storage, path: string, cipherPass?: string): Promise<LoadedFile<Manifest>> {
  return loadWithCopyFallback(storage.resolve(path), (file) => readManifestFile(storage, file, cipherPass), 'manifest');
}

export interface SaveManifestOptions {
  /** Write only `<path>.copy` (the checkpoint saved during a backup). */
  readonly copyOnly?: boolean;
  /** backup.info's passphrase, in an encrypted repository. */
  readonly cipherPass?: string | undefined;
}

/**
 * Saves the manifest the way a backup ends in pgBackRest 2.45 (command/backup/backup.c): first
 * `backup.manifest.copy`, then `backup.manifest`, each atomically and streamed. During a backup
 * only the copy exists (copyOnly), which marks the backup as resumable and not yet complete.
 */
export async function saveManifestFile(
  storage: Storage,
  path: string,
  manifest: Manifest,
  options: SaveManifestOptions = {},
): Promise<void> {
  const targets = options.copyOnly === true ? [path + INFO_COPY_EXT] : [path + INFO_COPY_EXT, path];
  for (const target of targets) {
    const plain = Readable.from(manifestBytes(manifest), { objectMode: false });
    const cipherPass = options.cipherPass;
    await storage.write(target, cipherPass === undefined ? plain : pipeline(plain, new EncryptFilter(cipherPass), () => {}));
  }
}

function* manifestBytes(manifest: Manifest): Generator<Buffer> {
  for (const chunk of renderManifestChunks(manifest)) yield Buffer.from(chunk, 'utf8');
}
