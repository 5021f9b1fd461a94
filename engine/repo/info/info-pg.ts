import { PgkeepError } from '../../error/pgkeep-error.js';
import { FieldContext } from './info-fields.js';
import type { InfoDocument } from './info-codec.js';
import type { JsonValue } from './json-value.js';

/**
 * The `[db]` and `[db:history]` sections that archive.info and backup.info share (pgBackRest's
 * infoPg). `[db]` names the current history entry by `db-id`; its other keys are written from that
 * entry and ignored on load, as pgBackRest does. History is kept oldest first, the file order.
 */

export const SECTION_DB = 'db';
export const SECTION_DB_HISTORY = 'db:history';
export const SECTION_CIPHER = 'cipher';
export const KEY_CIPHER_PASS = 'cipher-pass';

export type InfoPgKind = 'archive' | 'backup';

export interface PgHistoryEntry {
  /** History id: the `<id>` of archive id `<version>-<id>`. */
  readonly id: number;
  readonly systemId: bigint;
  /** PostgreSQL version string: "9.6", "15". */
  readonly version: string;
}

/** backup.info history entries also carry the catalog and pg_control versions. */
export interface BackupPgHistoryEntry extends PgHistoryEntry {
  readonly catalogVersion: number;
  readonly controlVersion: number;
}

export interface PgSections<E extends PgHistoryEntry> {
  currentId: number;
  history: E[];
}

/** `db-id` in archive.info history holds the system id: a typo pgBackRest keeps for compatibility. */
function systemIdKey(kind: InfoPgKind): string {
  return kind === 'archive' ? 'db-id' : 'db-system-id';
}

export function readPgSections(document: InfoDocument, file: string, kind: 'archive'): PgSections<PgHistoryEntry>;
export function readPgSections(document: InfoDocument, file: string, kind: 'backup'): PgSections<BackupPgHistoryEntry>;
export function readPgSections(
  document: InfoDocument,
  file: string,
  kind: InfoPgKind,
): PgSections<PgHistoryEntry | BackupPgHistoryEntry> {
  const db = document.sections.get(SECTION_DB);
  const currentContext = new FieldContext(file, `[${SECTION_DB}]`);
  const currentId = currentContext.integer(db?.get('db-id'), 'db-id');

  const history: (PgHistoryEntry | BackupPgHistoryEntry)[] = [];
  for (const [key, value] of document.sections.get(SECTION_DB_HISTORY) ?? []) {
    const context = new FieldContext(file, `[${SECTION_DB_HISTORY}] ${key}`);
    if (!/^[0-9]+$/.test(key)) throw context.error(`history id '${key}' is not a number`);
    const entry = context.object(value);
    const common = {
      id: Number(key),
      systemId: context.bigint(entry[systemIdKey(kind)], systemIdKey(kind)),
      version: context.string(entry['db-version'], 'db-version'),
    };
    history.push(
      kind === 'archive'
        ? common
        : {
            ...common,
            catalogVersion: context.integer(entry['db-catalog-version'], 'db-catalog-version'),
            controlVersion: context.integer(entry['db-control-version'], 'db-control-version'),
          },
    );
  }
  if (history.length === 0) throw new FieldContext(file, `[${SECTION_DB_HISTORY}]`).error('history is missing');
  if (!history.some((entry) => entry.id === currentId))
    throw currentContext.error(`current db-id ${currentId} is not in the history`);
  return { currentId, history };
}

/** Adds `[db]` (from the current entry) and `[db:history]` (oldest first) to the document. */
export function writePgSections(
  document: InfoDocument,
  kind: InfoPgKind,
  pg: PgSections<PgHistoryEntry | BackupPgHistoryEntry>,
): void {
  const current = currentPgEntry(pg);
  const db = new Map<string, JsonValue>();
  if (kind === 'backup') {
    const entry = current as BackupPgHistoryEntry;
    db.set('db-catalog-version', entry.catalogVersion);
    db.set('db-control-version', entry.controlVersion);
  }
  db.set('db-id', current.id);
  db.set('db-system-id', current.systemId);
  db.set('db-version', current.version);
  document.sections.set(SECTION_DB, db);

  const history = new Map<string, JsonValue>();
  for (const entry of pg.history) {
    const value: Record<string, JsonValue> = { [systemIdKey(kind)]: entry.systemId, 'db-version': entry.version };
    if (kind === 'backup') {
      value['db-catalog-version'] = (entry as BackupPgHistoryEntry).catalogVersion;
      value['db-control-version'] = (entry as BackupPgHistoryEntry).controlVersion;
    }
    history.set(String(entry.id), value);
  }
  document.sections.set(SECTION_DB_HISTORY, history);
}

export function currentPgEntry<E extends PgHistoryEntry>(pg: PgSections<E>): E {
  const entry = pg.history.find((item) => item.id === pg.currentId);
  if (entry === undefined) throw new PgkeepError('Assert', `current history id ${pg.currentId} is not in the history`);
  return entry;
}

/**
 * stanza-upgrade: a new history entry with id = highest id + 1, made current. pgBackRest uses
 * current id + 1, which is the same because the current entry is always the newest.
 */
export function addPgHistory<E extends PgHistoryEntry>(pg: PgSections<E>, entry: Omit<E, 'id'>): E {
  const id = Math.max(0, ...pg.history.map((item) => item.id)) + 1;
  const added = { ...entry, id } as E;
  pg.history.push(added);
  pg.currentId = id;
  return added;
}

/** History entries with this system id and version, newest first. */
export function findPgHistory<E extends PgHistoryEntry>(pg: PgSections<E>, systemId: bigint, version: string): E[] {
  return pg.history.filter((entry) => entry.systemId === systemId && entry.version === version).sort((a, b) => b.id - a.id);
}

/** `<version>-<id>`, e.g. `15-1`: the archive directory of a history entry. */
export function archiveIdOf(entry: PgHistoryEntry): string {
  return `${entry.version}-${entry.id}`;
}

/** For messages: a system id with its version. */
export function describePg(systemId: bigint, version: string): string {
  return `version '${version}' and system-id '${systemId}'`;
}

/** The cipher pass of `[cipher]`, when the file has one. */
export function readCipherPass(document: InfoDocument, file: string): string | undefined {
  const value = document.sections.get(SECTION_CIPHER)?.get(KEY_CIPHER_PASS);
  return new FieldContext(file, `[${SECTION_CIPHER}]`).optionalString(value, KEY_CIPHER_PASS);
}

export function writeCipherPass(document: InfoDocument, cipherPass: string | undefined): void {
  if (cipherPass !== undefined) document.sections.set(SECTION_CIPHER, new Map([[KEY_CIPHER_PASS, cipherPass]]));
}

/**
 * An info file or manifest has `[cipher]` exactly when its repository is encrypted: a plain file
 * with a passphrase was decrypted by hand (the files it leads to are encrypted), and an encrypted
 * one without a passphrase cannot lead to its files.
 */
export function checkCipherPass(cipherPass: string | undefined, encrypted: boolean, file: string): void {
  if ((cipherPass !== undefined) === encrypted) return;
  throw new PgkeepError(
    'Crypto',
    encrypted
      ? `'${file}' has no cipher passphrase, but it is encrypted`
      : `'${file}' has a cipher passphrase, but repo-cipher-type is none`,
    {
      hint: encrypted
        ? 'the file was not written by pgBackRest or pgkeep: restore it from its .copy or a backup of the repository'
        : 'the files it leads to are encrypted: set repo-cipher-type=aes-256-cbc and repo-cipher-pass',
    },
  );
}

/** Sections the model does not know, kept so a load/save cycle loses nothing. */
export function takeExtraSections(document: InfoDocument, known: readonly string[]): Map<string, Map<string, JsonValue>> {
  const extra = new Map<string, Map<string, JsonValue>>();
  for (const [name, keys] of document.sections) if (!known.includes(name)) extra.set(name, keys);
  return extra;
}
