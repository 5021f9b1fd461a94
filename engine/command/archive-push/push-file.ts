import { createReadStream } from 'node:fs';
import { basename } from 'node:path';

import { PgkeepError } from '../../error/pgkeep-error.js';
import { compressLevel, type WritableCompressType } from '../../filter/compress-type.js';
import { copyToRepo, runPipeline } from '../../filter/pipeline.js';
import { log } from '../../log/logger.js';
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
import { archiveStanzaPath, checkStanzaMatches, loadStanzaArchiveInfo, type StanzaRepo } from '../common/stanza-repo.js';

export interface PushOptions {
  readonly compressType: WritableCompressType;
  readonly compressLevel?: number | undefined;
  /** Check the segment header's system id and version against the stanza (archive-header-check). */
  readonly headerCheck: boolean;
  /** The cluster's system id and version from pg_control, when pg1-path is known. */
  readonly pg?: { systemId: bigint; version: string } | undefined;
}

export type PushOutcome = 'pushed' | 'exists';

/**
 * Pushes one WAL file to one repository, as pgBackRest 2.45 does (repo-format 9.1): segments are
 * checked against the stanza, hashed, looked up (same hash: already there; other hash: refused,
 * nothing written), then stored compressed under `<segment>-<sha1>.<ext>` atomically; history and
 * backup history files are stored as they are, under their own name.
 */
export async function pushWalFile(walPath: string, repo: StanzaRepo, options: PushOptions): Promise<PushOutcome> {
  const name = basename(walPath);
  const segment = isSegmentOrPartialName(name);
  if (!segment && !isHistoryName(name) && !isBackupHistoryName(name)) {
    throw new PgkeepError('ParamInvalid', `'${name}' is not a WAL segment, history or backup history file name`, {
      hint: "archive_command must pass the file PostgreSQL gives it: archive_command = 'pgkeep --stanza=<name> archive-push %p'",
    });
  }

  const archiveInfo = await loadStanzaArchiveInfo(repo);
  const stanzaDb = currentPgEntry(archiveInfo);
  if (options.pg !== undefined)
    checkStanzaMatches(`PostgreSQL ${describePg(options.pg.systemId, options.pg.version)}`, options.pg, stanzaDb, repo);
  const archiveId = currentArchiveId(archiveInfo);
  const base = archiveStanzaPath(repo.stanza);

  if (!segment) {
    await repo.storage.write(`${base}/${archiveFilePath(archiveId, name)}`, createReadStream(walPath));
    return 'pushed';
  }

  if (options.headerCheck) {
    const header = await readWalHeader(walPath);
    const walDb = { systemId: header.systemId, version: header.version.version };
    checkStanzaMatches(`WAL file '${name}' with ${describePg(walDb.systemId, walDb.version)}`, walDb, stanzaDb, repo);
  }

  const sha1 = String((await runPipeline(createReadStream(walPath), [{ type: 'sha1', resultName: 'sha1' }]))['sha1']);
  const dir = `${base}/${archiveSegmentDir(archiveId, name)}`;
  const lookup = segmentLookupRegex(name);
  const existing = (await repo.storage.list(dir, { ignoreMissing: true, filter: lookup })).map((entry) => entry.name);
  if (existing.length > 0) {
    if (existing.some((stored) => parseStoredSegmentName(stored)?.sha1 === sha1)) {
      log.warn(
        `WAL file '${name}' already exists in the repo${repo.index} archive with the same checksum\n` +
          'HINT: this is valid in some recovery scenarios but may also indicate a problem',
      );
      return 'exists';
    }
    throw new PgkeepError(
      'ArchiveDuplicate',
      `WAL file '${name}' already exists in the repo${repo.index} archive with a different checksum`,
      {
        hint: 'another cluster or timeline may be archiving into this stanza: check archive_command of every cluster that uses it; nothing was written',
      },
    );
  }

  const target = `${base}/${archiveSegmentPath(archiveId, name, sha1, options.compressType)}`;
  const level = compressLevel(options.compressType, options.compressLevel);
  const written = await copyToRepo(createReadStream(walPath), (data) => repo.storage.write(target, data), {
    compressType: options.compressType,
    compressLevel: level,
  });
  if (written.checksum !== sha1) {
    // The file changed between hashing and copying: PostgreSQL never does that to a ready segment.
    await repo.storage.remove(target);
    throw new PgkeepError('Checksum', `WAL file '${walPath}' changed while it was being archived`, {
      hint: 'PostgreSQL will call archive_command again; if this repeats, something else writes into pg_wal',
    });
  }
  return 'pushed';
}
