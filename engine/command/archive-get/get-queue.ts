import { join } from 'node:path';

import type { BackgroundContext } from '../../archive-async/async-main.js';
import { spoolQueuePath, writeError, writeOk } from '../../archive-async/spool.js';
import type { Config } from '../../config/config.js';
import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { readPgControl } from '../../postgres/pg-control.js';
import { defaultPgIndex } from '../common/pg-index.js';
import { stanzaRepo } from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';
import { copyWalFile, findWalFile, type FoundWal } from './get-file.js';

/** Where a segment was found, or why not. */
interface Located {
  readonly found?: FoundWal;
  /** Repositories that failed while the others were searched. */
  readonly warnings: string[];
  /** Every repository failed (or the archive holds duplicates): processing cannot go past this segment. */
  readonly error?: PgkeepError;
}

/**
 * The background process of asynchronous archive-get (pgBackRest's cmdArchiveGetAsync): fetches
 * the segments it was given (the ones the queue lacks, in order) into the spool's in queue.
 * The segments are looked up in order and the lookup stops at the first one that no repository
 * has; those found are copied `process-max` at a time, decompressed and checked against their
 * SHA-1, each under a temporary name and renamed into the queue once verified (copyWalFile), so
 * a segment in the queue is always whole and good. Then:
 * - a segment that could not be fetched gets an .error (a damaged one: ArchiveCorrupt, which
 *   makes PostgreSQL stop recovery);
 * - the first missing segment gets an empty .ok: "not in the archive" (the end of recovery);
 * - a lookup error that no repository got past gets an .error for that segment.
 */
export async function runGetQueue(context: BackgroundContext): Promise<void> {
  const { config, signal } = context;
  const files = config.params;
  if (files.length === 0) throw new PgkeepError('ParamInvalid', 'at least one wal segment is required');
  const inDir = spoolQueuePath(config.string('spool-path'), config.string('stanza'), 'in');
  log.info(`get ${files.length} WAL file(s) from archive: ${files[0]}${files.length === 1 ? '' : `...${files.at(-1)}`}`);
  try {
    const control = await readPgControl(config.string('pg-path', defaultPgIndex(config)));
    const pg = { systemId: control.systemId, version: control.version.version };

    const fetch: { name: string; located: Located }[] = [];
    let stop: { name: string; located: Located } | undefined;
    for (const name of files) {
      const located = await locate(name, config, pg);
      if (located.found === undefined) {
        stop = { name, located };
        break;
      }
      fetch.push({ name, located });
    }

    let next = 0;
    const worker = async () => {
      while (next < fetch.length && !signal.aborted) {
        const { name, located } = fetch[next++]!;
        try {
          // Written before the segment appears: the foreground sees the warnings with it.
          if (located.warnings.length > 0) await writeOk(inDir, name, located.warnings.join('\n'));
          await copyWalFile(located.found!, join(inDir, name));
          log.detail(`found ${name} in the repo${located.found!.repo.index}: ${located.found!.archiveId} archive`);
        } catch (error) {
          const failure = toPgkeepError(error);
          log.warn(`[${failure.errorName}] ${failure.message}`);
          await writeError(inDir, name, failure);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(config.number('process-max'), fetch.length) }, worker));

    if (stop?.located.error !== undefined) {
      const message = [stop.located.error.message, ...stop.located.warnings].join('\n');
      log.warn(`[${stop.located.error.errorName}] ${message}`);
      await writeError(
        inDir,
        stop.name,
        new PgkeepError(stop.located.error.errorName, message, { hint: stop.located.error.hint }),
      );
    } else if (stop !== undefined) {
      // Written last, so a foreground that starts the next process at once retries what is missing.
      log.detail(`unable to find ${stop.name} in the archive`);
      await writeOk(inDir, stop.name, stop.located.warnings.join('\n'));
    }
  } catch (error) {
    await writeError(inDir, undefined, error).catch(() => undefined);
    throw error;
  }
}

/** The first repository (in order) that has the segment; failing repositories become warnings. */
async function locate(name: string, config: Config, pg: { systemId: bigint; version: string }): Promise<Located> {
  const warnings: string[] = [];
  const indexes = repoIndexes(config);
  for (const index of indexes) {
    try {
      const found = await findWalFile(name, stanzaRepo(config, index), pg);
      if (found !== undefined) return { found, warnings };
    } catch (caught) {
      const error = toPgkeepError(caught);
      if (error.errorName === 'ArchiveDuplicate') return { warnings, error };
      warnings.push(`repo${index}: [${error.errorName}] ${error.message}`);
    }
  }
  if (warnings.length === indexes.length) {
    return {
      warnings,
      error: new PgkeepError('RepoInvalid', 'unable to find a valid repository', {
        hint: 'check that the stanza exists in the repositories and belongs to this cluster',
      }),
    };
  }
  return { warnings };
}
