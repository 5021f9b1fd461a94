import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { pipeline } from 'node:stream';

import { PgkeepError } from '../../error/pgkeep-error.js';
import { EncryptFilter } from '../../filter/cipher.js';
import { compressLevel, type WritableCompressType } from '../../filter/compress-type.js';
import { runPipeline } from '../../filter/pipeline.js';
import { isBackupHistoryName, isHistoryName, isSegmentOrPartialName, readWalHeader } from '../../postgres/wal.js';
import {
  archiveFilePath,
  archiveSegmentDir,
  archiveSegmentPath,
  parseStoredSegmentName,
  segmentLookupRegex,
} from '../../repo/archive/archive-path.js';
import { currentArchiveId } from '../../repo/info/archive-info.js';
import { currentPgEntry, describePg } from '../../repo/info/info-pg.js';
import { isProcessAlive } from '../../repo/lock/process-alive.js';
import { TEMP_MARK } from '../../storage/posix/posix-storage.js';
import { archiveStanzaPath, checkStanzaMatches, loadStanzaArchiveInfo, type StanzaRepo } from '../common/stanza-repo.js';
import { copyWal, WAL_READ_CHUNK } from './wal-copy.js';

export interface PushOptions {
  readonly compressType: WritableCompressType;
  readonly compressLevel?: number | undefined;
  /** Check the segment header's system id and version against the stanza (archive-header-check). */
  readonly headerCheck: boolean;
  /** The cluster's system id and version from pg_control, when pg1-path is known. */
  readonly pg?: { systemId: bigint; version: string } | undefined;
}

export type PushOutcome = 'pushed' | 'exists';

/** A repository checked against the cluster, ready to take WAL files: what every push of a batch shares. */
export interface PushTarget {
  readonly repo: StanzaRepo;
  /** The stanza's current archive id: where archive-push writes. */
  readonly archiveId: string;
  readonly stanzaDb: { readonly systemId: bigint; readonly version: string };
  /** archive.info's passphrase of the WAL files, in an encrypted repository. */
  readonly cipherPass: string | undefined;
}

/**
 * Loads the stanza's archive.info from the repository and checks it belongs to the cluster
 * (pg_control's system id and version, when known): pgBackRest's archivePushCheck for one repo.
 */
export async function pushTarget(repo: StanzaRepo, pg: PushOptions['pg']): Promise<PushTarget> {
  const archiveInfo = await loadStanzaArchiveInfo(repo);
  const stanzaDb = currentPgEntry(archiveInfo);
  if (pg !== undefined) checkStanzaMatches(`PostgreSQL ${describePg(pg.systemId, pg.version)}`, pg, stanzaDb, repo);
  return { repo, archiveId: currentArchiveId(archiveInfo), stanzaDb, cipherPass: archiveInfo.cipherPass };
}

/** pushTarget and pushToTarget in one call: one file to one repository. */
export async function pushWalFile(walPath: string, repo: StanzaRepo, options: PushOptions): Promise<PushOutcome> {
  checkWalName(basename(walPath));
  return await pushToTarget(walPath, await pushTarget(repo, options.pg), options);
}

/**
 * Pushes one WAL file to one checked repository, as pgBackRest 2.45 does (repo-format 9.1):
 * segments are checked against the stanza, then looked up: when a copy is already there the
 * segment is hashed and compared (same hash: 'exists'; other hash: refused, nothing written);
 * otherwise it is compressed and hashed in one pass into a temporary file (wal-copy.ts), synced,
 * and renamed to `<segment>-<sha1>.<ext>` (pgBackRest reads the segment twice, once to hash it
 * and once to copy it). History and backup history files are stored as they are, under their own name.
 *
 * Crash safety: nothing appears under a segment name before all of it is on disk. A process
 * killed mid-copy leaves `<segment>.pgkeep.tmp.<pid>.<random>`, which pgBackRest's and pgkeep's
 * listings ignore, and which the next push of that segment removes once its process is gone.
 */
export async function pushToTarget(walPath: string, target: PushTarget, options: PushOptions): Promise<PushOutcome> {
  const name = basename(walPath);
  const { repo, archiveId, stanzaDb, cipherPass } = target;
  const base = archiveStanzaPath(repo.stanza);
  if (!checkWalName(name)) {
    // Stored as it is (encrypted in an encrypted repository), under its own name.
    const plain = createReadStream(walPath);
    const stored = cipherPass === undefined ? plain : pipeline(plain, new EncryptFilter(cipherPass), () => {});
    await repo.storage.write(`${base}/${archiveFilePath(archiveId, name)}`, stored);
    return 'pushed';
  }

  if (options.headerCheck) {
    const header = await readWalHeader(walPath);
    const walDb = { systemId: header.systemId, version: header.version.version };
    checkStanzaMatches(`WAL file '${name}' with ${describePg(walDb.systemId, walDb.version)}`, walDb, stanzaDb, repo);
  }

  const dir = `${base}/${archiveSegmentDir(archiveId, name)}`;
  // Only this segment's entries (stored copies, temporary files): a directory holds up to 256 segments.
  const sameSegment = new RegExp(`^${name.slice(0, 24)}`);
  const listing = (await repo.storage.list(dir, { ignoreMissing: true, filter: sameSegment })).map((entry) => entry.name);
  await removeAbandonedTemporaries(repo, dir, name, listing);
  const lookup = segmentLookupRegex(name);
  const existing = listing.filter((stored) => lookup.test(stored));
  if (existing.length > 0) return await compareExisting(walPath, name, existing, repo);

  const temporary = `${dir}/${name}${TEMP_MARK}${process.pid}.${randomBytes(4).toString('hex')}`;
  const { sha1 } = await copyWal(
    walPath,
    options.compressType,
    compressLevel(options.compressType, options.compressLevel),
    (data) => repo.storage.write(temporary, data, { atomic: false }),
    cipherPass,
  );
  try {
    await repo.storage.move(temporary, `${base}/${archiveSegmentPath(archiveId, name, sha1, options.compressType)}`);
  } catch (error) {
    await repo.storage.remove(temporary);
    throw error;
  }
  return 'pushed';
}

/** True for a segment (or .partial), false for a history or backup history file; anything else is refused. */
export function checkWalName(name: string): boolean {
  if (isSegmentOrPartialName(name)) return true;
  if (isHistoryName(name) || isBackupHistoryName(name)) return false;
  throw new PgkeepError('ParamInvalid', `'${name}' is not a WAL segment, history or backup history file name`, {
    hint: "archive_command must pass the file PostgreSQL gives it: archive_command = 'pgkeep --stanza=<name> archive-push %p'",
  });
}

async function compareExisting(walPath: string, name: string, existing: string[], repo: StanzaRepo): Promise<PushOutcome> {
  const sha1 = String(
    (await runPipeline(createReadStream(walPath, { highWaterMark: WAL_READ_CHUNK }), [{ type: 'sha1', resultName: 'sha1' }]))[
      'sha1'
    ],
  );
  if (existing.some((stored) => parseStoredSegmentName(stored)?.sha1 === sha1)) return 'exists';
  throw new PgkeepError(
    'ArchiveDuplicate',
    `WAL file '${name}' already exists in the repo${repo.index} archive with a different checksum`,
    {
      hint: 'another cluster or timeline may be archiving into this stanza: check archive_command of every cluster that uses it; nothing was written',
    },
  );
}

/** The text pgBackRest gives (as a warning) for a segment already archived with the same content. */
export function existsWarning(name: string, repoIndex: number): string {
  return (
    `WAL file '${name}' already exists in the repo${repoIndex} archive with the same checksum\n` +
    'HINT: this is valid in some recovery scenarios but may also indicate a problem'
  );
}

/**
 * Removes temporary files that earlier pushes of this segment left when their process died (a
 * crash, a kill): `<segment>...pgkeep.tmp.<pid>.<random>` whose pid is not running. A live
 * process's file is never touched.
 */
async function removeAbandonedTemporaries(
  repo: StanzaRepo,
  dir: string,
  name: string,
  listing: readonly string[],
): Promise<void> {
  for (const entry of listing) {
    if (!entry.startsWith(name)) continue;
    const at = entry.lastIndexOf(TEMP_MARK);
    if (at < 0) continue;
    const pid = Number(entry.slice(at + TEMP_MARK.length).split('.')[0]);
    if (Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid)) await repo.storage.remove(`${dir}/${entry}`);
  }
}
