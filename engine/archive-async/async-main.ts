// The background process of asynchronous archiving (pgBackRest's archive-push:async and
// archive-get:async roles): `node async-main.js <archive-push|archive-get> <options> <params>`.
// The foreground command starts it detached (spawn.ts) and reads what it did from the spool.
//
// Asynchronous archiving, the whole design (archive-async=y):
//
//   PostgreSQL ── archive_command ──> pgkeep-fast.sh ──(anything it cannot answer)──> node cli.js archive-push
//                                        │  reads <spool>/archive/<stanza>/out/<wal>.ok    │  (push-async.ts)
//                                        │  starts the background process when none runs  │  same, reports errors,
//                                        ▼                                                 ▼  writes the descriptor
//                           node async-main.js archive-push <pg_wal>  (push-queue.ts, holds <stanza>-archive.lock)
//                             pushes every pg_wal/archive_status/*.ready without an .ok, oldest first,
//                             process-max × 2 at a time, writes <wal>.ok / <wal>.error / global.error,
//                             stays LINGER_MS watching archive_status (inotify) for the next segments
//
// - Spool layout and status file format are pgBackRest's (spool.ts), so the two tools can share it.
// - The foreground returns success only when the .ok of that very segment exists; the .ok is
//   written only after the repository copy is synced and renamed into place (push-file.ts): a
//   crash at any point leaves either no .ok (the segment is pushed again; a half-written copy is a
//   temporary file, removed by that next push) or a complete copy.
// - An .error reaches PostgreSQL at its next look (first look excepted, as in pgBackRest, so a new
//   background process can retry); nothing at all within archive-timeout is ArchiveTimeout.
// - archive-push-queue-max: over it, the waiting files are reported ok with a loud warning and not
//   archived (pgBackRest's semantics), rather than pg_wal filling the disk.
// - The shell fast path (fast-path.ts, pgkeep-fast.sh) answers a pushed or queued segment in a
//   few ms without Node, from a descriptor the Node foreground writes and that the shell only
//   trusts while the configuration, environment, arguments and stop files are unchanged.
// - archive-get: the foreground (get-async.ts) moves prefetched segments from <spool>/.../in into
//   place; the background process (get-queue.ts) fetches what the queue lacks, verified.
import { join } from 'node:path';

import { parseCommandLine } from '../config/command-line.js';
import type { Config } from '../config/config.js';
import { resolveConfig } from '../config/resolve.js';
import { PgkeepError, toPgkeepError } from '../error/pgkeep-error.js';
import { log, type LogLevel } from '../log/logger.js';
import { acquireLock, type StanzaLock } from '../repo/lock/lock.js';
import { PGKEEP_VERSION } from '../version.js';
import { tracingConfigIo, type ConfigTrace } from './config-trace.js';
import type { AsyncMode } from './spawn.js';

/** What a background run gets from this entry. */
export interface BackgroundContext {
  readonly config: Config;
  readonly lock: StanzaLock;
  /** What the configuration was read from: the run ends when it changes. */
  readonly configTrace: ConfigTrace;
  /** Aborted on SIGTERM/SIGINT: finish the file at hand, write its status, stop. */
  readonly signal: AbortSignal;
  /** How long to stay without work before ending (archive-push; tests shorten it). */
  readonly lingerMs?: number;
}

/** Runs one background process; resolves to its exit code. */
export async function runBackground(args: readonly string[], signal: AbortSignal): Promise<number> {
  const mode = args[0];
  if (mode !== 'archive-push' && mode !== 'archive-get') {
    log.error(`unknown asynchronous mode '${String(mode)}': expected archive-push or archive-get`);
    return 25;
  }
  const started = Date.now();
  let config: Config;
  const { io, trace } = tracingConfigIo();
  try {
    config = resolveConfig({ command: mode, commandLine: parseCommandLine(args), env: process.env, io });
  } catch (error) {
    // Nowhere to log yet: the foreground reports its own configuration errors before starting us.
    const failure = toPgkeepError(error);
    log.error(failure.text, failure.code);
    return failure.code;
  }
  configureLog(config, mode);
  const role = `${mode}:async`;
  log.info(`${role} command begin ${PGKEEP_VERSION}: ${[...config.params.map((p) => `[${p}]`), ...config.describe()].join(' ')}`);

  let lock: StanzaLock;
  try {
    lock = await acquireLock({ lockPath: config.string('lock-path'), stanza: config.string('stanza'), type: 'archive' });
  } catch (error) {
    // Another background process got there first: it does the work.
    log.info(`${role} command end: ${toPgkeepError(error).message}`);
    log.close();
    return 0;
  }
  try {
    const context: BackgroundContext = { config, lock, configTrace: trace, signal };
    if (mode === 'archive-push') await (await import('../command/archive-push/push-queue.js')).runPushQueue(context);
    else await (await import('../command/archive-get/get-queue.js')).runGetQueue(context);
    log.info(`${role} command end: completed successfully (${Date.now() - started}ms)`);
    return 0;
  } catch (error) {
    const failure = toPgkeepError(error);
    log.error(failure.text, failure.code);
    log.info(`${role} command end: aborted with exception [${String(failure.code).padStart(3, '0')}]`);
    return failure.code;
  } finally {
    await lock.release().catch(() => undefined);
    log.close();
  }
}

function configureLog(config: Config, mode: AsyncMode): void {
  log.configure({
    console: 'off',
    stderr: 'off',
    file: config.string('log-level-file') as LogLevel,
    filePath: join(config.string('log-path'), `${config.string('stanza')}-${mode}-async.log`),
    timestamp: config.boolean('log-timestamp'),
    processId: 0,
  });
  log.addSecrets(config.secrets());
}

// Run only as the entry file, not when a test imports runBackground (so only integration tests,
// which start it as a process, run these lines: coverage does not see them).
/* v8 ignore next 5 */
if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => controller.abort(new PgkeepError('Term', `terminated on signal [${signal}]`)));
  process.exitCode = await runBackground(process.argv.slice(2), controller.signal);
}
