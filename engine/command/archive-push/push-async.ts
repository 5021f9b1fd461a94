import { basename, dirname, join } from 'node:path';

import { currentInvocation } from '../../archive-async/config-trace.js';
import { writeFastPath } from '../../archive-async/fast-path.js';
import { backgroundArgs, spawnBackground } from '../../archive-async/spawn.js';
import { clearErrors, createQueue, readStatus, spoolQueuePath, statusError } from '../../archive-async/spool.js';
import { DirectoryWait } from '../../archive-async/wait.js';
import type { Config } from '../../config/config.js';
import { PgkeepError, isPgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { acquireLock } from '../../repo/lock/lock.js';
import { isProcessAlive } from '../../repo/lock/process-alive.js';
import { defaultPgIndex } from '../common/pg-index.js';

/**
 * archive-push with archive-async, the foreground (pgBackRest's cmdArchivePush, async branch):
 * PostgreSQL's call returns success as soon as `<spool>/archive/<stanza>/out/<file>.ok` exists,
 * which the background process writes once the file is safely in every repository. Until then:
 *
 * 1. look for the status of the file; an .error (or global.error) is not reported on this first
 *    look, so that a background process started now can retry what failed before;
 * 2. when no background process runs (the stanza's archive lock is free), clear this file's
 *    errors and start one: it pushes every `.ready` file of pg_wal, not just this one;
 * 3. look again as the spool changes; report an .error from now on; give up with ArchiveTimeout
 *    after archive-timeout. Unlike pgBackRest, which starts one process per call, a background
 *    process that dies without an answer (killed, out of memory) is replaced at the next look,
 *    up to MAX_STARTS times: the call does not wait out archive-timeout for nothing.
 *
 * On success the fast path's descriptor is refreshed, so that the next calls can be answered by
 * the shell entry without Node (fast-path.ts).
 */
export async function pushAsync(config: Config, walPath: string): Promise<number> {
  const pgPath = config.stringOr('pg-path', defaultPgIndex(config));
  if (pgPath === undefined) {
    throw new PgkeepError('OptionRequired', "'archive-push' command in async mode requires option 'pg1-path'", {
      hint: 'set pg1-path in the stanza section: the background process reads pg_wal/archive_status to push ahead',
    });
  }
  const stanza = config.string('stanza');
  const lockPath = config.string('lock-path');
  const name = basename(walPath);
  const outDir = spoolQueuePath(config.string('spool-path'), stanza, 'out');
  const timeoutMs = config.number('archive-timeout') * 1000;
  await createQueue(outDir);

  const wait = new DirectoryWait(timeoutMs, [outDir]);
  let pushed = false;
  let started: number | undefined; // the background process this call started, while it may still be starting
  let starts = 0;
  let throwOnError = false;
  try {
    do {
      const status = await readStatus(outDir, name);
      if (status?.kind === 'ok') {
        if (status.warning !== undefined) log.warn(status.warning);
        pushed = true;
        break;
      }
      if (status?.kind === 'error' && throwOnError) throw statusError(status);
      if (starts < MAX_STARTS && (started === undefined || !isProcessAlive(started))) {
        const pid = await startBackground(config, lockPath, stanza, outDir, name, walPath);
        if (pid !== false) {
          started = pid;
          starts++;
        }
      }
      throwOnError = true;
    } while (await wait.pause());
  } finally {
    wait.close();
  }

  if (!pushed) {
    throw new PgkeepError(
      'ArchiveTimeout',
      `unable to push WAL file '${name}' to the archive asynchronously after ${config.number('archive-timeout')} second(s)`,
      {
        hint: `check '${join(config.string('log-path'), `${stanza}-archive-push-async.log`)}' for errors`,
      },
    );
  }
  log.info(`pushed WAL file '${name}' to the archive asynchronously`);

  const invocation = currentInvocation();
  if (invocation !== undefined) {
    const written = await writeFastPath({
      invocation,
      walParam: config.params[0]!,
      walPath,
      backgroundArgs: backgroundArgs('archive-push', config, []),
      stanza,
      outDir,
      lockPath,
      archiveTimeoutMs: timeoutMs,
    });
    if (!written) log.debug('no fast path descriptor written for this invocation');
  }
  return 0;
}

/** Background processes one call starts at most (the first, and replacements of ones that died). */
const MAX_STARTS = 5;

/**
 * Starts the background process unless one runs: the archive lock is taken to know, released,
 * and the child takes it (another foreground may win the race; one of the two children works).
 * Returns its pid, or false when a background process runs.
 */
async function startBackground(
  config: Config,
  lockPath: string,
  stanza: string,
  outDir: string,
  name: string,
  walPath: string,
): Promise<number | undefined | false> {
  let lock;
  try {
    lock = await acquireLock({ lockPath, stanza, type: 'archive' });
  } catch (error) {
    // Held by a live process (a background process at work): not an error. Failing to create the
    // lock file at all is one (the same error name, but not "held by").
    if (isPgkeepError(error, 'LockAcquire') && error.message.includes(': held by ')) return false;
    throw error;
  }
  try {
    await clearErrors(outDir, name);
  } finally {
    await lock.release();
  }
  const pid = spawnBackground(
    backgroundArgs('archive-push', config, [dirname(walPath)]),
    config.string('pg-path', defaultPgIndex(config)),
  );
  log.detail(`started the asynchronous archive-push process for ${name}`);
  return pid;
}
