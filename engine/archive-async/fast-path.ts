import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { parseCommandLine } from '../config/command-line.js';
import { lockFilePath, stopFilePath } from '../repo/lock/lock.js';
import type { Invocation } from './config-trace.js';

/**
 * The fast path of archive_command (design; the shell side is pgkeep-fast.sh beside this file).
 *
 * PostgreSQL runs archive_command once per WAL file. Node needs ~60 ms just to start on a small
 * machine (measured: `node -e 0`, Node 20, with V8's built-in startup snapshot; a custom
 * --snapshot-blob of an empty script is no faster, and Node 20 has no compile cache), so no
 * JavaScript entry can answer in under 20 ms. With archive-async the answer is usually already
 * known: the background process pushes every `.ready` segment ahead of PostgreSQL's call and
 * leaves `<spool>/archive/<stanza>/out/<segment>.ok`. pgkeep-fast.sh is a POSIX sh entry point
 * that answers that case itself (about 2 ms) and runs the Node CLI for everything else.
 *
 * The shell cannot resolve pgkeep's configuration (files, includes, environment, defaults). So
 * every Node archive-push that confirmed an asynchronous push writes a descriptor of what it
 * resolved, which the shell trusts only while it provably still holds:
 *
 *   <tmpdir>/pgkeep-<euid>/archive-push.<stanza>     (directory 0700, file 0600, owned by the user)
 *
 *     pgkeep-fast-path 1
 *     arg <word>          the arguments, one per line, all but the last (the WAL path): the shell's
 *                         must be the very same words, so Node would parse the same options
 *     out <dir>           the spool's out queue the configuration resolved to
 *     lock <file>         the stanza's archive lock file (who holds it: the background process)
 *     wait-ms <n>         how long to wait for the background process to finish a queued segment
 *     wal-param-dir <dir> %p's directory as PostgreSQL passes it (pg_wal), which the shell's must equal
 *     wal-dir <dir>       the same directory resolved (pg1-path applied): the background process's parameter
 *     node <path>         the Node binary, and:
 *     bg <word>           the background process's arguments (entry, mode, options), one per line
 *     absent <path>       must not exist: the stop files, config files and directories that did not exist
 *     newer <path>        must not have been modified since the descriptor's mtime: config files and
 *                         include directories that were read
 *     env-count <n>       the number of PGKEEP_* and PGBACKREST_* environment variables ...
 *     env <NAME>=<value>  ... and each of them, which must be unchanged
 *     end
 *
 * The descriptor's mtime is set to 2 s before this process started reading its configuration,
 * so a file changed after it was read is always newer (at any timestamp granularity of 1 s or
 * better), and a change racing with the write makes the shell fall back, never the reverse.
 *
 * The shell then answers exactly what pgBackRest's foreground answers: success when
 * `<segment>.ok` exists (empty: an .ok carrying a warning goes to Node, which prints it), after
 * checking the stop files. When the segment is not done yet but the archive lock is held by a
 * live process (the background process pushing it), it polls for the .ok for up to wait-ms: the
 * segment is queued, and waiting in sh costs far less than starting Node. When no process holds
 * the lock and there is no error to report, it starts the background process itself, exactly as
 * the Node foreground would (same arguments, own session via setsid, no terminal), and waits for
 * it the same way: a low WAL rate, where the background process has ended between two segments,
 * then costs one Node start (the background process), not two. Everything else
 * (an .error or global.error, no live background process, any check failing, any doubt) runs the
 * Node CLI with the same arguments, which starts the background process, waits, reports errors,
 * and writes a fresh descriptor.
 *
 * The background process also ends when a configuration file changes (config-trace.ts), so a
 * stale configuration is never served for long by either side.
 */

export const FAST_PATH_VERSION = 1;
/** The shell's wait for a queued segment: at most this, and at most half of archive-timeout. */
const MAX_WAIT_MS = 5_000;
/** Backdating of the descriptor's mtime (see above). */
const MTIME_MARGIN_MS = 2_000;
const ENV_PREFIXES = ['PGKEEP_', 'PGBACKREST_'];

/** The directory of this user's descriptors: Node's os.tmpdir() and the shell's ${TMPDIR:-${TMP:-${TEMP:-/tmp}}}. */
export function fastPathDir(): string {
  return join(tmpdir(), `pgkeep-${effectiveUid()}`);
}

/* v8 ignore next 4 */
function effectiveUid(): number {
  // geteuid exists on every POSIX system; the fallback only keeps this compiling for Windows.
  return process.geteuid?.() ?? -1;
}

export function fastPathFile(stanza: string): string {
  return join(fastPathDir(), `archive-push.${stanza}`);
}

export interface FastPathFacts {
  readonly invocation: Invocation;
  /** The WAL path parameter exactly as given. */
  readonly walParam: string;
  /** The WAL path resolved (against pg1-path when relative). */
  readonly walPath: string;
  /** The background process's arguments: entry file, mode, options (no WAL directory). */
  readonly backgroundArgs: readonly string[];
  readonly stanza: string;
  readonly outDir: string;
  readonly lockPath: string;
  readonly archiveTimeoutMs: number;
}

/** The descriptor's text, or undefined when these facts cannot be described safely (then there is no fast path). */
export function fastPathDescriptor(facts: FastPathFacts): string | undefined {
  const { invocation, stanza } = facts;
  const argv = invocation.argv;
  if (argv.length === 0 || argv.at(-1) !== facts.walParam) return undefined;
  // The shell finds the descriptor by --stanza on the command line.
  if (parseCommandLine(argv).settings.get('stanza')?.texts[0] !== stanza) return undefined;
  const lines = [`pgkeep-fast-path ${FAST_PATH_VERSION}`];
  for (const word of argv.slice(0, -1)) lines.push(`arg ${word}`);
  lines.push(`out ${facts.outDir}`);
  lines.push(`lock ${lockFilePath(facts.lockPath, stanza, 'archive')}`);
  lines.push(`wait-ms ${Math.floor(Math.min(MAX_WAIT_MS, facts.archiveTimeoutMs / 2))}`);
  // The shell compares %p's directory as given (up to the last slash) and passes the resolved one on.
  const paramDir = facts.walParam.includes('/') ? facts.walParam.slice(0, facts.walParam.lastIndexOf('/')) : '';
  if (paramDir === '') return undefined;
  lines.push(`wal-param-dir ${paramDir}`, `wal-dir ${dirname(facts.walPath)}`);
  lines.push(`node ${process.execPath}`);
  for (const word of facts.backgroundArgs) lines.push(`bg ${word}`);
  lines.push(`absent ${stopFilePath(facts.lockPath, stanza)}`, `absent ${stopFilePath(facts.lockPath)}`);
  for (const entry of invocation.configTrace.entries)
    lines.push(`${entry.stamp === undefined ? 'absent' : 'newer'} ${entry.path}`);
  const env = Object.entries(invocation.env).filter(
    ([name, value]) => value !== undefined && ENV_PREFIXES.some((prefix) => name.startsWith(prefix)),
  );
  lines.push(`env-count ${env.length}`);
  for (const [name, value] of env) {
    if (!/^[A-Z0-9_]+$/.test(name)) return undefined;
    lines.push(`env ${name}=${value}`);
  }
  lines.push('end');
  // One line per item: a newline inside any of them would be read as another item.
  if (lines.some((line) => line.includes('\n') || line.includes('\r') || line.includes('\0'))) return undefined;
  return lines.join('\n') + '\n';
}

/**
 * Writes (replaces) the descriptor, atomically, backdated as described above. Returns false when
 * it cannot be written safely: the directory is not this user's private one, or the facts cannot
 * be described. Never throws for that reason: the fast path is an optimisation.
 */
export async function writeFastPath(facts: FastPathFacts): Promise<boolean> {
  const text = fastPathDescriptor(facts);
  if (text === undefined) return false;
  const dir = fastPathDir();
  if (!(await privateDirectory(dir))) return false;
  const file = fastPathFile(facts.stanza);
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
    const mtime = (facts.invocation.configTrace.startedAt - MTIME_MARGIN_MS) / 1000;
    await utimes(temporary, mtime, mtime);
    await rename(temporary, file);
    return true;
  } catch {
    await unlink(temporary).catch(() => undefined);
    return false;
  }
}

/** Removes the descriptor: the next calls go through Node (a stop file appeared, the configuration changed). */
export async function removeFastPath(stanza: string): Promise<void> {
  await unlink(fastPathFile(stanza)).catch(() => undefined);
}

/** Creates the directory (0700) or checks it: a real directory of this user that nobody else can write. */
async function privateDirectory(dir: string): Promise<boolean> {
  await mkdir(dir, { mode: 0o700 }).catch(() => undefined);
  const stats = await lstat(dir).catch(() => undefined);
  return stats !== undefined && stats.isDirectory() && stats.uid === effectiveUid() && (stats.mode & 0o077) === 0;
}
