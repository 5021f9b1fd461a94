import { copyFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { backgroundArgs, spawnBackground } from '../../archive-async/spawn.js';
import {
  clearErrors,
  createQueue,
  listQueue,
  readStatus,
  removeIfExists,
  spoolQueuePath,
  STATUS_OK,
  statusError,
} from '../../archive-async/spool.js';
import { DirectoryWait } from '../../archive-async/wait.js';
import type { Config } from '../../config/config.js';
import { EXIT_NOT_FOUND } from '../../error/error-table.js';
import { isPgkeepError, PgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { readPgControl } from '../../postgres/pg-control.js';
import { isSegmentName, nextSegmentName } from '../../postgres/wal.js';
import { acquireLock } from '../../repo/lock/lock.js';
import { isProcessAlive } from '../../repo/lock/process-alive.js';
import { storageError } from '../../storage/posix/storage-error.js';
import { defaultPgIndex } from '../common/pg-index.js';

/**
 * archive-get with archive-async, the foreground (pgBackRest's cmdArchiveGet, async branch), for
 * WAL segments (history files are fetched synchronously). The background process (get-queue.ts)
 * prefetches the segments recovery will ask for next into `<spool>/archive/<stanza>/in/`,
 * decompressed and verified; a call then only renames the segment into place.
 *
 * Each look: the segment in the queue is moved to the destination (exit 0); an .ok without the
 * segment means the background process did not find it (exit 1, the end of the archive; on the
 * first look it is only believed when archive-missing-retry is off, since it may be stale); an
 * .error is reported from the second look on. The background process is started when the segment
 * is not there, or when less than half of archive-get-queue-max is queued, with the list of
 * segments the queue lacks.
 */
export async function getAsync(config: Config, name: string, destination: string): Promise<number> {
  const stanza = config.string('stanza');
  const pgPath = config.string('pg-path', defaultPgIndex(config));
  const inDir = spoolQueuePath(config.string('spool-path'), stanza, 'in');
  const queueMax = config.number('archive-get-queue-max');
  const missingRetryOption = config.boolean('archive-missing-retry');
  await createQueue(inDir);

  const wait = new DirectoryWait(config.number('archive-timeout') * 1000, [inDir]);
  let first = true;
  let found: boolean;
  let foundOk = false;
  let started: number | undefined; // the background process this call started, while it may still be starting
  let starts = 0;
  try {
    do {
      found = await isFile(join(inDir, name));
      const missingRetry = first && missingRetryOption;
      const status = await readStatus(inDir, name);
      if (status?.kind === 'error' && !first) throw statusError(status);
      if (status?.kind === 'ok') {
        if (status.warning !== undefined && (found || !missingRetry)) log.warn(status.warning);
        await removeIfExists(join(inDir, name + STATUS_OK));
        if (!found && !missingRetry) {
          foundOk = true;
          break;
        }
      }

      let queueFull = false;
      if (found) {
        await moveInto(join(inDir, name), destination);
        log.info(`found ${name} in the archive asynchronously`);
        const queued = (await listQueue(inDir)).filter(isSegmentName).length;
        if (queued > 0) queueFull = queued * (await stat(destination)).size > queueMax / 2;
      }
      // As for archive-push: started once, and again (a few times) when it died without an answer.
      if ((!found || !queueFull) && starts < MAX_STARTS && (started === undefined || !isProcessAlive(started))) {
        const pid = await startBackground(config, pgPath, stanza, inDir, name, found);
        if (pid !== false) {
          started = pid;
          starts++;
        }
      }
      if (found) break;
      first = false;
    } while (await wait.pause());
  } finally {
    wait.close();
  }

  if (found) return 0;
  if (!foundOk) {
    throw new PgkeepError(
      'ArchiveTimeout',
      `unable to get WAL file '${name}' from the archive asynchronously after ${config.number('archive-timeout')} second(s)`,
      { hint: `check '${join(config.string('log-path'), `${stanza}-archive-get-async.log`)}' for errors` },
    );
  }
  log.info(`unable to find ${name} in the archive asynchronously`);
  return EXIT_NOT_FOUND;
}

/**
 * The segments the background process should fetch (pgBackRest's queueNeed): the ideal queue is
 * the archive-get-queue-max worth of segments (at least 2) from the requested one (or the next,
 * when it was just found); queued files outside it are removed (old segments, leftovers of a
 * killed process, stale status files), and what the ideal queue still lacks is returned.
 */
export async function queueNeed(
  inDir: string,
  name: string,
  found: boolean,
  queueMax: number,
  segmentSize: number,
): Promise<string[]> {
  const total = Math.max(2, Math.floor(queueMax / segmentSize));
  const ideal: string[] = [];
  for (let segment = found ? nextSegmentName(name, segmentSize) : name; ideal.length < total;) {
    ideal.push(segment);
    segment = nextSegmentName(segment, segmentSize);
  }
  const wanted = new Set(ideal);
  // Temporary files included: they are leftovers of a killed background process (none runs now).
  const actual = await listQueue(inDir, { temporary: true });
  const present = new Set(actual);
  const keep = new Set<string>();
  for (const file of actual) {
    if (wanted.has(file)) keep.add(file);
    // An .ok beside its kept segment carries warnings for that segment: keep it.
    else if (!(file.endsWith(STATUS_OK) && present.has(file.slice(0, -STATUS_OK.length))))
      await removeIfExists(join(inDir, file));
  }
  return ideal.filter((segment) => !keep.has(segment));
}

/** Background processes one call starts at most (the first, and replacements of ones that died). */
const MAX_STARTS = 5;

/** Starts the background process for what the queue lacks; false when one runs (the lock is held). */
async function startBackground(
  config: Config,
  pgPath: string,
  stanza: string,
  inDir: string,
  name: string,
  found: boolean,
): Promise<number | undefined | false> {
  let lock;
  try {
    lock = await acquireLock({ lockPath: config.string('lock-path'), stanza, type: 'archive' });
  } catch (error) {
    if (isPgkeepError(error, 'LockAcquire') && error.message.includes(': held by ')) return false;
    throw error;
  }
  let queue: string[];
  try {
    const control = await readPgControl(pgPath);
    queue = await queueNeed(inDir, name, found, config.number('archive-get-queue-max'), control.walSegmentSize);
    await clearErrors(inDir, name);
  } finally {
    await lock.release();
  }
  // A full queue needs nothing: do not start a process for nothing.
  if (queue.length === 0) return undefined;
  const pid = spawnBackground(backgroundArgs('archive-get', config, queue), pgPath);
  log.detail(`started the asynchronous archive-get process for ${queue[0]}...${queue.at(-1)}`);
  return pid;
}

/**
 * Moves a prefetched segment to PostgreSQL's destination: a rename, or a copy when the spool is
 * on another file system. Not synced, as in pgBackRest: after a crash PostgreSQL asks again.
 */
async function moveInto(source: string, destination: string): Promise<void> {
  try {
    await rename(source, destination);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw storageError(error, 'move', source, destination);
  }
  try {
    await copyFile(source, destination);
    await unlink(source);
  } catch (error) {
    throw storageError(error, 'move', source, destination);
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
