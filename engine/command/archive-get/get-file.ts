import { basename, dirname } from 'node:path';

import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { compressTypeFromExtension } from '../../filter/compress-type.js';
import { copyFromRepo } from '../../filter/pipeline.js';
import { isSegmentOrPartialName } from '../../postgres/wal.js';
import {
  archiveFilePath,
  archiveSegmentDir,
  parseStoredSegmentName,
  segmentLookupRegex,
} from '../../repo/archive/archive-path.js';
import { archiveIdsFor } from '../../repo/info/archive-info.js';
import { PosixStorage } from '../../storage/posix/posix-storage.js';
import { archiveStanzaPath, loadStanzaArchiveInfo, type StanzaRepo } from '../common/stanza-repo.js';

/** A WAL file found in a repository. */
export interface FoundWal {
  readonly repo: StanzaRepo;
  readonly archiveId: string;
  /** Path in the repository. */
  readonly path: string;
  /** SHA-1 of the plain content, from the stored name (segments only). */
  readonly sha1: string | undefined;
  /** archive.info's passphrase of the WAL files, in an encrypted repository. */
  readonly cipherPass: string | undefined;
}

/**
 * Finds a WAL file for a cluster (system id + version) in one repository: every archive id of
 * archive.info that matches the cluster, newest first (repo-format 9.3). Several stored copies
 * of one segment with different content is an error, as in pgBackRest.
 */
export async function findWalFile(
  name: string,
  repo: StanzaRepo,
  pg: { systemId: bigint; version: string },
): Promise<FoundWal | undefined> {
  const archiveInfo = await loadStanzaArchiveInfo(repo);
  const archiveIds = archiveIdsFor(archiveInfo, pg.systemId, pg.version);
  if (archiveIds.length === 0) {
    throw new PgkeepError(
      'ArchiveMismatch',
      `unable to retrieve the archive id for database version '${pg.version}' and system-id '${pg.systemId}' from stanza '${repo.stanza}' on repo${repo.index}`,
      { hint: 'is restore_command using the stanza of this cluster? pg1-path must be the data directory being recovered' },
    );
  }
  const base = archiveStanzaPath(repo.stanza);
  for (const archiveId of archiveIds) {
    if (!isSegmentOrPartialName(name)) {
      const path = `${base}/${archiveFilePath(archiveId, name)}`;
      if (await repo.storage.exists(path)) return { repo, archiveId, path, sha1: undefined, cipherPass: archiveInfo.cipherPass };
      continue;
    }
    const dir = `${base}/${archiveSegmentDir(archiveId, name)}`;
    const matches = (await repo.storage.list(dir, { ignoreMissing: true, filter: segmentLookupRegex(name) })).map(
      (entry) => entry.name,
    );
    if (matches.length > 1) {
      throw new PgkeepError(
        'ArchiveDuplicate',
        `duplicates found in the repo${repo.index} archive for WAL segment ${name}: ${matches.join(', ')}`,
        {
          hint: 'there are multiple archived copies of the segment with different content: remove the ones that do not belong to this cluster',
        },
      );
    }
    const stored = matches[0];
    if (stored !== undefined) {
      const sha1 = parseStoredSegmentName(stored)?.sha1;
      return { repo, archiveId, path: `${dir}/${stored}`, sha1, cipherPass: archiveInfo.cipherPass };
    }
  }
  return undefined;
}

/**
 * Copies a found WAL file to `destination`, decompressed, and checks it against the SHA-1 in its
 * name before anything appears under the destination name (pgBackRest 2.45 does not check). A
 * damaged file is ArchiveCorrupt, whose exit code (over 125) makes PostgreSQL stop recovery
 * instead of ending it early as if the archive had no more WAL.
 */
export async function copyWalFile(found: FoundWal, destination: string): Promise<void> {
  const source = await found.repo.storage.read(found.path);
  const target = new PosixStorage({ basePath: dirname(destination) });
  const name = basename(destination);
  // Written under a temporary name and renamed only once verified: PostgreSQL never sees a bad file.
  const temporary = `${name}.pgkeep.get`;
  const where = `${found.repo.storage.resolve(found.path)} (repo${found.repo.index})`;
  let result;
  // When decoding fails, the pipeline may reject before the write into the temporary file has
  // ended: the failure path waits for it before removing the file.
  let writing: Promise<void> = Promise.resolve();
  const sink = (data: AsyncIterable<Buffer>) => (writing = target.write(temporary, data, { mode: 0o600, atomic: false }));
  try {
    result = await copyFromRepo(source!, sink, compressTypeFromExtension(found.path), where, found.cipherPass);
  } catch (caught) {
    await writing.catch(() => undefined);
    await target.remove(temporary);
    const error = toPgkeepError(caught);
    if (error.errorName === 'FileWrite' || error.errorName === 'Access' || error.errorName === 'PathCreate') throw error;
    throw corrupt(found, where, `cannot be read: ${error.message}`, error);
  }
  if (found.sha1 !== undefined && result.checksum !== found.sha1) {
    await target.remove(temporary);
    throw corrupt(found, where, `has checksum ${result.checksum}, not the ${found.sha1} of its name`);
  }
  await target.move(temporary, name);
}

function corrupt(found: FoundWal, where: string, what: string, cause?: unknown): PgkeepError {
  return new PgkeepError('ArchiveCorrupt', `WAL file ${basename(found.path)} in the archive ${what}`, {
    hint: `the archived file ${where} is damaged: PostgreSQL did not get it, and recovery stops rather than ending early; restore the file from another copy of the archive`,
    cause,
  });
}
