import { join } from 'node:path';

import type { BackgroundContext } from '../../archive-async/async-main.js';
import { changedConfigPath } from '../../archive-async/config-trace.js';
import { removeFastPath } from '../../archive-async/fast-path.js';
import { listQueue, removeIfExists, STATUS_OK, spoolQueuePath, writeError, writeOk } from '../../archive-async/spool.js';
import { DirectoryWait } from '../../archive-async/wait.js';
import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { checkNotStopped } from '../../repo/lock/lock.js';
import { pushOptions, pushPlan, pushToRepos, type PushPlan } from './push-repos.js';
import { archiveStatusDir, dropWarning, queueExceeded, readyList } from './ready-list.js';

/**
 * How long the background process stays after its last push, watching pg_wal/archive_status:
 * under a steady WAL stream the next segment is pushed the moment PostgreSQL marks it .ready,
 * before PostgreSQL's own call for it, which the shell fast path then answers at once.
 * pgBackRest's process ends after each batch and the next call starts another.
 */
export const LINGER_MS = 2_000;

/**
 * Pushes in flight per process-max slot. The pushes run in this process: reading and hashing on
 * the main thread, compressing in libuv's thread pool, writing asynchronously; a second push per
 * slot keeps every stage busy while the other waits (as the worker pool sends a job ahead to each
 * worker). Measured on 2 cores, 16 MiB segments, lz4: 1 at a time 58 ms/segment, 2 at a time
 * 36-45 ms, 4 at a time 29-36 ms; the CPU time per segment (~48 ms) does not change.
 */
export const PUSHES_PER_PROCESS = 2;

/**
 * The background process of asynchronous archive-push (pgBackRest's cmdArchivePushAsync), holding
 * the stanza's archive lock. In rounds:
 *
 * 1. the stop file and the configuration: stopped is a global error; a changed configuration
 *    ends the process (the next foreground starts one that reads it);
 * 2. the work: every `.ready` file of pg_wal without an .ok, oldest first (pgBackRest's
 *    archivePushProcessList, which also removes old .error files and the .ok files PostgreSQL
 *    is done with); only `.ready` files, never a segment PostgreSQL is still writing;
 * 3. over archive-push-queue-max: each file is dropped, reported ok with a loud warning;
 * 4. else the repositories are checked once for the round, and the files are pushed, oldest
 *    first, `process-max` × PUSHES_PER_PROCESS at a time, each file's .ok or .error written as soon as it is done (the
 *    .ok only after the repository copy is synced: a crash at any point leaves no .ok for a
 *    file that is not safely stored, and the next call pushes it again);
 * 5. a round with errors ends the process (as pgBackRest's one-shot process does), so the
 *    foreground reports them and the next call retries after clearing them. Otherwise the next
 *    round follows, or after LINGER_MS without work, the end.
 *
 * A failure outside one file's push (repositories unreadable, stopped) is written to
 * global.error, which every waiting foreground reports.
 */
export async function runPushQueue(context: BackgroundContext): Promise<void> {
  const { config, configTrace, signal } = context;
  const walDir = config.params[0];
  if (walDir === undefined) throw new PgkeepError('ParamRequired', 'WAL path to push required');
  const stanza = config.string('stanza');
  const lockPath = config.string('lock-path');
  const outDir = spoolQueuePath(config.string('spool-path'), stanza, 'out');
  const processMax = config.number('process-max');
  const queueMax = config.numberOr('archive-push-queue-max');

  const lingerMs = context.lingerMs ?? LINGER_MS;
  const idle = new DirectoryWait(lingerMs, [archiveStatusDir(walDir)]);
  try {
    while (!signal.aborted) {
      const changed = changedConfigPath(configTrace);
      if (changed !== undefined) {
        log.info(`configuration '${changed}' changed: ending, the next archive-push starts a process that reads it`);
        await removeFastPath(stanza);
        return;
      }
      await checkNotStopped(lockPath, stanza);
      const files = await processList(walDir, outDir);
      if (files.length === 0) {
        if (!(await idle.pause())) return;
        continue;
      }
      log.info(`push ${files.length} WAL file(s) to archive: ${files[0]}${files.length === 1 ? '' : `...${files.at(-1)}`}`);
      if (queueMax !== undefined && (await queueExceeded(walDir, files, queueMax))) {
        for (const file of files) {
          const warning = dropWarning(file, queueMax);
          await writeOk(outDir, file, warning);
          log.warn(warning);
        }
      } else {
        const plan = await pushPlan(config, await pushOptions(config));
        const failures = await pushFiles(files, walDir, outDir, plan, processMax * PUSHES_PER_PROCESS, signal);
        if (failures > 0) return;
      }
      idle.restart(lingerMs);
    }
  } catch (error) {
    // Covers every file not yet pushed: the foregrounds waiting for them report it.
    await writeError(outDir, undefined, error).catch(() => undefined);
    throw error;
  } finally {
    idle.close();
  }
}

/**
 * The files to push: `.ready` files without an .ok. On the way, status files other than .ok are
 * removed (errors of an earlier run: this run retries), and .ok files whose .ready is gone
 * (PostgreSQL has acknowledged them).
 */
export async function processList(walDir: string, outDir: string): Promise<string[]> {
  const ok = new Set<string>();
  for (const file of await listQueue(outDir)) {
    if (file.endsWith(STATUS_OK)) ok.add(file.slice(0, -STATUS_OK.length));
    else await removeIfExists(join(outDir, file));
  }
  const ready = await readyList(walDir);
  const readySet = new Set(ready);
  for (const file of ok) if (!readySet.has(file)) await removeIfExists(join(outDir, file + STATUS_OK));
  return ready.filter((file) => !ok.has(file));
}

/**
 * Pushes the files, oldest first, `concurrency` at a time; returns how many failed. The first
 * file is pushed alone: PostgreSQL is waiting for exactly that one, and it is done sooner when it
 * does not share the machine with the next ones (they all start once it is).
 */
async function pushFiles(
  files: readonly string[],
  walDir: string,
  outDir: string,
  plan: PushPlan,
  concurrency: number,
  signal: AbortSignal,
): Promise<number> {
  let next = 0;
  let failures = 0;
  const pushNext = async (): Promise<void> => {
    const file = files[next++]!;
    try {
      const warnings = await pushToRepos(join(walDir, file), file, plan);
      for (const warning of warnings) log.warn(warning);
      await writeOk(outDir, file, warnings.join('\n'));
      log.detail(`pushed WAL file '${file}' to the archive`);
    } catch (error) {
      const failure = toPgkeepError(error);
      failures++;
      log.warn(`could not push WAL file '${file}' to the archive (will be retried): [${failure.code}] ${failure.message}`);
      await writeError(outDir, file, failure);
    }
  };
  const worker = async () => {
    while (next < files.length && !signal.aborted) await pushNext();
  };
  await pushNext(); // the round started after a look at the signal: one more file is fine
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length - next) }, () => worker()));
  return failures;
}
