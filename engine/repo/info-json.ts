import { toPgkeepError, type PgkeepError } from '../error/pgkeep-error.js';
import type { ArchiveRange } from './archive/archive-path.js';
import type { BackupType } from './backup/label.js';
import { archiveIdForHistory } from './info/archive-info.js';
import type { ArchiveInfo } from './info/archive-info.js';
import type { BackupInfo, BackupInfoEntry } from './info/backup-info.js';
import { currentPgEntry } from './info/info-pg.js';
import { compareBytes, renderJson, type JsonObject, type JsonValue } from './info/json-value.js';
import type { Manifest } from './manifest/manifest.js';

/**
 * The structures of `pgbackrest info --output=json` (repo-format 10; pgBackRest 2.45
 * command/info/info.c), built from data the info command has already loaded: backup.info,
 * archive.info and the archive listing of every repository. Pure functions: no storage here.
 */

export type RepoCipher = 'none' | 'aes-256-cbc';

/** What the info command found for the stanza on one repository. */
export type InfoRepoState =
  | {
      readonly kind: 'ok';
      readonly backupInfo: BackupInfo;
      readonly archiveInfo: ArchiveInfo;
      /** Archive id -> oldest/newest stored segment, from listing the archive id's directories. */
      readonly archiveRanges: ReadonlyMap<string, ArchiveRange>;
      /** With --set, the manifest of the requested backup when it is on this repository. */
      readonly manifest?: Manifest | undefined;
    }
  /** The stanza directory does not exist on this repository. */
  | { readonly kind: 'missing-stanza-path' }
  /** The stanza directory exists but backup.info does not. */
  | { readonly kind: 'missing-stanza-data' }
  /** Loading failed: shown as `[<errorName>] <message>`; infoErrorState makes one from a PgkeepError. */
  | { readonly kind: 'error'; readonly errorName: string; readonly message: string };

export interface InfoRepoInput {
  /** Repository key: the N of repoN. */
  readonly key: number;
  readonly cipher: RepoCipher;
  readonly state: InfoRepoState;
}

export interface InfoStanzaInput {
  readonly name: string;
  /** The repositories in key order. */
  readonly repos: readonly InfoRepoInput[];
  /** A backup or expire holds the stanza's backup lock. */
  readonly backupLockHeld?: boolean;
  /** --set=<label>. */
  readonly set?: string;
  /** --type=<full|diff|incr>: only backups of this type. */
  readonly type?: BackupType;
}

export interface InfoStatus {
  code: number;
  message: string;
}

export interface InfoBackupJson {
  archive: { start: string | null; stop: string | null };
  backrest: { format: number; version: string };
  database: { id: number; 'repo-key': number };
  error?: boolean;
  'error-list'?: string[];
  info: {
    delta: number;
    repository: { delta: number; size?: number; 'delta-map'?: number; 'size-map'?: number };
    size: number;
  };
  label: string;
  lsn?: { start: string; stop: string };
  prior: string | null;
  reference: string[] | null;
  timestamp: { start: number; stop: number };
  type: BackupType;
  annotation?: JsonObject;
  'database-ref'?: { name: string; oid: number }[];
  link?: { destination: string; name: string }[] | null;
  tablespace?: { destination: string; name: string; oid: number }[] | null;
}

export interface InfoStanzaJson {
  archive: { database: { id: number; 'repo-key': number }; id: string; max: string | null; min: string | null }[];
  backup: InfoBackupJson[];
  cipher: RepoCipher | 'mixed';
  db: { id: number; 'repo-key': number; 'system-id': bigint; version: string }[];
  name: string;
  repo: { cipher: RepoCipher; key: number; status: InfoStatus }[];
  status: InfoStatus & { lock: { backup: { held: boolean } } };
}

export const INFO_STATUS = {
  ok: { code: 0, message: 'ok' },
  missingStanzaPath: { code: 1, message: 'missing stanza path' },
  noBackup: { code: 2, message: 'no valid backups' },
  missingStanzaData: { code: 3, message: 'missing stanza data' },
  mixed: { code: 4, message: 'different across repos' },
  pgMismatch: { code: 5, message: 'database mismatch across repos' },
  backupMissing: { code: 6, message: 'requested backup not found' },
  other: { code: 99, message: 'other' },
} as const;

/** The state of a repository whose files failed to load, named the way pgBackRest names errors (`FileMissingError`). */
export function infoErrorState(error: PgkeepError): { kind: 'error'; errorName: string; message: string } {
  return { kind: 'error', errorName: `${error.errorName}Error`, message: error.message };
}

function repoStatus(state: InfoRepoState, backupMissing: boolean): InfoStatus {
  switch (state.kind) {
    case 'missing-stanza-path':
      return { ...INFO_STATUS.missingStanzaPath };
    case 'missing-stanza-data':
      return { ...INFO_STATUS.missingStanzaData };
    case 'error':
      return { code: INFO_STATUS.other.code, message: `[${state.errorName}] ${state.message}` };
    case 'ok':
      if (backupMissing) return { ...INFO_STATUS.backupMissing };
      return state.backupInfo.backups.length === 0 ? { ...INFO_STATUS.noBackup } : { ...INFO_STATUS.ok };
  }
}

/** Every code the stanza status takes is one of INFO_STATUS. */
function stanzaStatusOf(code: number): InfoStatus {
  const known = Object.values(INFO_STATUS).find((status) => status.code === code)!;
  return { code: known.code, message: known.message };
}

/** One stanza's object of the info JSON array. */
export function buildStanzaInfo(input: InfoStanzaInput): InfoStanzaJson {
  // --set naming a backup that no repository has: every repository without an error says so
  const backupMissing =
    input.set !== undefined &&
    !input.repos.some(
      (repo) => repo.state.kind === 'ok' && repo.state.backupInfo.backups.some((entry) => entry.label === input.set),
    );

  const db: InfoStanzaJson['db'] = [];
  const archive: InfoStanzaJson['archive'] = [];
  const repo: InfoStanzaJson['repo'] = [];
  let current: { systemId: bigint; version: string } | undefined;
  let stanzaCode: number | undefined;
  let cipher: RepoCipher | 'mixed' | undefined;
  const failed = new Set<number>();

  for (const [index, { key, cipher: repoCipher, state }] of input.repos.entries()) {
    let status = repoStatus(state, backupMissing);
    if (state.kind === 'ok' && !backupMissing) {
      try {
        // Database history oldest first, each with its archive id's range
        const repoDb: typeof db = [];
        const repoArchive: typeof archive = [];
        for (const entry of state.backupInfo.history) {
          repoDb.push({ id: entry.id, 'repo-key': key, 'system-id': entry.systemId, version: entry.version });
          const archiveId = archiveIdForHistory(state.archiveInfo, entry);
          const range = state.archiveRanges.get(archiveId) ?? { min: null, max: null };
          if (entry.id === state.backupInfo.currentId || range.min !== null) {
            repoArchive.push({ database: { id: entry.id, 'repo-key': key }, id: archiveId, max: range.max, min: range.min });
          }
        }
        db.push(...repoDb);
        archive.push(...repoArchive);
        const pg = currentPgEntry(state.backupInfo);
        current ??= { systemId: pg.systemId, version: pg.version };
        if (pg.systemId !== current.systemId || pg.version !== current.version) stanzaCode = INFO_STATUS.pgMismatch.code;
      } catch (error) {
        // pgBackRest reports the repository as failing and shows nothing of it
        const { errorName, message } = infoErrorState(toPgkeepError(error));
        status = { code: INFO_STATUS.other.code, message: `[${errorName}] ${message}` };
        failed.add(index);
      }
    }
    if (stanzaCode !== INFO_STATUS.pgMismatch.code) {
      stanzaCode = index === 0 || stanzaCode === status.code ? status.code : INFO_STATUS.mixed.code;
    }
    cipher = index === 0 || cipher === repoCipher ? repoCipher : 'mixed';
    repo.push({ cipher: repoCipher, key, status });
  }

  return {
    archive,
    backup: backupList(input, backupMissing, failed),
    cipher: cipher ?? 'none',
    db,
    name: input.name,
    repo,
    status: { ...stanzaStatusOf(stanzaCode ?? INFO_STATUS.ok.code), lock: { backup: { held: input.backupLockHeld ?? false } } },
  };
}

/** Backups of every repository, merged oldest first by stop time (ties keep repository order). */
function backupList(input: InfoStanzaInput, backupMissing: boolean, failed: ReadonlySet<number>): InfoBackupJson[] {
  if (backupMissing) return [];
  const lists = input.repos.map((repo, index) =>
    repo.state.kind === 'ok' && !failed.has(index) ? repo.state.backupInfo.backups : [],
  );
  const next = lists.map(() => 0);
  const result: InfoBackupJson[] = [];
  for (;;) {
    let pick = -1;
    for (let index = 0; index < lists.length; index++) {
      const entry = lists[index]![next[index]!];
      if (entry !== undefined && (pick < 0 || entry.timestampStop < lists[pick]![next[pick]!]!.timestampStop)) pick = index;
    }
    if (pick < 0) return result;
    const entry = lists[pick]![next[pick]!]!;
    next[pick]!++;
    if (input.set !== undefined && entry.label !== input.set) continue;
    if (input.type !== undefined && entry.type !== input.type) continue;
    const state = input.repos[pick]!.state;
    result.push(
      backupJson(entry, input.repos[pick]!.key, input.set !== undefined && state.kind === 'ok' ? state.manifest : undefined),
    );
  }
}

/** One backup of the info JSON; with the manifest (--set), also databases, links and tablespaces. */
export function backupJson(entry: BackupInfoEntry, repoKey: number, manifest?: Manifest): InfoBackupJson {
  const repository: InfoBackupJson['info']['repository'] = { delta: entry.repoSizeDelta };
  if (entry.repoSizeMap === undefined) repository.size = entry.repoSize;
  else {
    repository['size-map'] = entry.repoSizeMap;
    repository['delta-map'] = entry.repoSizeMapDelta ?? 0;
  }
  const json: InfoBackupJson = {
    archive: { start: entry.archiveStart, stop: entry.archiveStop },
    backrest: { format: entry.backrestFormat, version: entry.backrestVersion },
    database: { id: entry.dbId, 'repo-key': repoKey },
    info: { delta: entry.sizeDelta, repository, size: entry.size },
    label: entry.label,
    prior: entry.prior ?? null,
    reference: entry.reference ?? null,
    timestamp: { start: entry.timestampStart, stop: entry.timestampStop },
    type: entry.type,
  };
  if (entry.error !== undefined) json.error = entry.error;
  if (entry.lsnStart !== undefined && entry.lsnStop !== undefined) json.lsn = { start: entry.lsnStart, stop: entry.lsnStop };
  if (entry.annotation !== undefined) json.annotation = entry.annotation;
  if (manifest !== undefined) addManifestDetail(json, manifest);
  return json;
}

function addManifestDetail(json: InfoBackupJson, manifest: Manifest): void {
  const names = [...manifest.databases.keys()].sort(compareBytes);
  json['database-ref'] = names
    .filter((name) => name !== 'template0' && name !== 'template1')
    .map((name) => ({ name, oid: manifest.databases.get(name)!.id }));
  const links: { destination: string; name: string }[] = [];
  const tablespaces: { destination: string; name: string; oid: number }[] = [];
  for (const name of [...manifest.targets.keys()].sort(compareBytes)) {
    const target = manifest.targets.get(name)!;
    if (target.type !== 'link') continue;
    if (target.tablespaceName !== undefined)
      tablespaces.push({ destination: target.path, name: target.tablespaceName, oid: target.tablespaceId ?? 0 });
    else if (target.file !== undefined) links.push({ destination: `${target.path}/${target.file}`, name: target.file });
    else
      links.push({
        destination: target.path,
        name: target.name.startsWith('pg_data/') ? target.name.slice('pg_data/'.length) : target.name,
      });
  }
  json.link = links.length > 0 ? links : null;
  json.tablespace = tablespaces.length > 0 ? tablespaces : null;
  const errors = [...manifest.files.values()]
    .filter((file) => file.checksumPage === false)
    .map((file) => (file.name.startsWith('pg_data/') ? file.name.slice('pg_data/'.length) : file.name))
    .sort(compareBytes);
  if (errors.length > 0) {
    json['error-list'] = errors;
    json.error = true;
  }
}

/** The info JSON array: stanzas sorted by name. */
export function buildInfoJson(stanzas: readonly InfoStanzaInput[]): InfoStanzaJson[] {
  return [...stanzas].sort((a, b) => compareBytes(a.name, b.name)).map(buildStanzaInfo);
}

/** The text pgBackRest prints: compact JSON with keys in byte order. */
export function renderInfoJson(stanzas: readonly InfoStanzaJson[]): string {
  return renderJson(stanzas as unknown as JsonValue);
}
