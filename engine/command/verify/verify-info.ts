import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream';

import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { parseArchiveInfo, type ArchiveInfo } from '../../repo/info/archive-info.js';
import { parseBackupInfo, type BackupInfo } from '../../repo/info/backup-info.js';
import { DecryptFilter, isEncrypted } from '../../filter/cipher.js';
import { decryptedText, encryptedError, INFO_COPY_EXT, readRepoFile } from '../../repo/info/info-codec.js';
import { checkCipherPass, currentPgEntry, describePg, type PgHistoryEntry } from '../../repo/info/info-pg.js';
import { parseManifestStream, type Manifest } from '../../repo/manifest/manifest.js';
import type { Storage } from '../../storage/storage.js';
import type { InfoFileState, InfoPairReport } from './verify-report.js';

/** A file and its `.copy`, each loaded on its own so that the state of both is known. */
export interface LoadedPair<T> {
  /** The main file's content, else the copy's; undefined when neither loads. */
  readonly value: T | undefined;
  readonly report: InfoPairReport;
  /** Damage: a file that exists but does not load. */
  readonly problems: string[];
  /** A missing file while the other loads, or a copy that differs from the main file. */
  readonly warnings: string[];
}

interface Loaded<T> {
  readonly value: T;
  readonly sha1: string;
}

/**
 * Loads `path` and `path.copy` the way pgBackRest's verify does (main first, the copy as a
 * fallback), but reports on both: a file that exists and does not load is damage (a problem), a
 * missing one or a copy that differs is a warning (a crash between writing the two leaves that).
 */
export async function loadPair<T>(
  path: string,
  load: (file: string) => Promise<Loaded<T>>,
  describe: (file: string) => string = (file) => `'${file}'`,
): Promise<LoadedPair<T>> {
  const main = await attempt(path, load);
  const copy = await attempt(path + INFO_COPY_EXT, load);
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const state of [main.state, copy.state]) {
    if (state.status === 'invalid') problems.push(`${describe(state.file)} is not valid: ${state.error}`);
  }
  const bothLoaded = main.loaded !== undefined && copy.loaded !== undefined;
  if (bothLoaded && main.loaded!.sha1 !== copy.loaded!.sha1)
    warnings.push(`${describe(copy.state.file)} does not match ${describe(main.state.file)}`);
  if (main.state.status === 'missing' && copy.loaded !== undefined)
    warnings.push(`${describe(main.state.file)} is missing: ${describe(copy.state.file)} was used`);
  if (copy.state.status === 'missing' && main.loaded !== undefined) warnings.push(`${describe(copy.state.file)} is missing`);
  return {
    value: (main.loaded ?? copy.loaded)?.value,
    report: { main: main.state, copy: copy.state, match: bothLoaded ? main.loaded!.sha1 === copy.loaded!.sha1 : null },
    problems,
    warnings,
  };
}

async function attempt<T>(
  file: string,
  load: (file: string) => Promise<Loaded<T>>,
): Promise<{ state: InfoFileState; loaded?: Loaded<T> }> {
  try {
    return { state: { file, status: 'ok' }, loaded: await load(file) };
  } catch (caught) {
    const error = toPgkeepError(caught);
    if (error.errorName === 'FileMissing') return { state: { file, status: 'missing' } };
    return { state: { file, status: 'invalid', error: error.message } };
  }
}

const sha1 = (content: Buffer) => createHash('sha1').update(content).digest('hex');

export function backupInfoLoader(storage: Storage, repoCipherPass?: string): (file: string) => Promise<Loaded<BackupInfo>> {
  return async (file) => {
    const content = await readRepoFile(storage, file, repoCipherPass);
    const value = parseBackupInfo(content, file);
    checkCipherPass(value.cipherPass, repoCipherPass !== undefined, file);
    return { value, sha1: sha1(content) };
  };
}

export function archiveInfoLoader(storage: Storage, repoCipherPass?: string): (file: string) => Promise<Loaded<ArchiveInfo>> {
  return async (file) => {
    const content = await readRepoFile(storage, file, repoCipherPass);
    const value = parseArchiveInfo(content, file);
    checkCipherPass(value.cipherPass, repoCipherPass !== undefined, file);
    return { value, sha1: sha1(content) };
  };
}

/**
 * Streams a manifest through the parser and SHA-1 at once (manifests of large clusters are tens of
 * MB); `cipherPass` is backup.info's passphrase in an encrypted repository. The SHA-1 is of the
 * plain text, so a file and its copy encrypted with different salts still match.
 */
export function manifestLoader(storage: Storage, cipherPass?: string): (file: string) => Promise<Loaded<Manifest>> {
  return async (file) => {
    const stored = await storage.read(file, { ignoreMissing: true });
    if (stored === undefined) throw new PgkeepError('FileMissing', `unable to open missing file '${file}' for read`);
    const stream =
      cipherPass === undefined
        ? stored
        : decryptedText(
            pipeline(stored, new DecryptFilter(cipherPass, file), () => {}),
            file,
          );
    const hash = createHash('sha1');
    async function* hashed(): AsyncGenerator<Uint8Array> {
      let first = true;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (first && cipherPass === undefined && isEncrypted(chunk)) throw encryptedError(file);
        first = false;
        hash.update(chunk);
        yield chunk;
      }
    }
    const value = await parseManifestStream(hashed(), file);
    checkCipherPass(value.cipherPass, cipherPass !== undefined, file);
    return { value, sha1: hash.digest('hex') };
  };
}

/**
 * pgBackRest's check of the two info files (verifyPgHistory): the current database and the whole
 * history must be the same in archive.info and backup.info. Returns the problems found.
 */
export function compareHistories(archiveInfo: ArchiveInfo, backupInfo: BackupInfo): string[] {
  const problems: string[] = [];
  // The parsers make sure the current id is in the history
  const archiveCurrent = currentPgEntry(archiveInfo);
  const backupCurrent = currentPgEntry(backupInfo);
  if (!samePg(archiveCurrent, backupCurrent)) {
    problems.push(
      `backup info file and archive info file do not match: archive: ${describeEntry(archiveCurrent)}, backup: ${describeEntry(backupCurrent)}`,
    );
  }
  const same =
    archiveInfo.history.length === backupInfo.history.length &&
    archiveInfo.history.every((entry, index) => samePg(entry, backupInfo.history[index]!));
  if (!same) problems.push('archive and backup history lists do not match');
  return problems;
}

function samePg(a: PgHistoryEntry, b: PgHistoryEntry): boolean {
  return a.id === b.id && a.systemId === b.systemId && a.version === b.version;
}

function describeEntry(entry: PgHistoryEntry): string {
  return `id ${entry.id}, ${describePg(entry.systemId, entry.version)}`;
}
