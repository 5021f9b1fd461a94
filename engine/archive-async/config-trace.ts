import { statSync } from 'node:fs';

import { fileConfigIo, type ConfigIo } from '../config/config-files.js';

/**
 * What configuration resolution looked at: every file read and directory listed, whether it
 * existed, and what it was then (inode, size, times). Asynchronous archiving needs it twice:
 * - the background process exits when any of it changes, so a changed configuration is never
 *   served by a process that still runs on the old one;
 * - the fast path's descriptor lists it, so the shell entry falls back to Node when a file the
 *   descriptor was derived from has changed since (fast-path.ts).
 */
export interface ConfigTrace {
  /** When resolution started (ms since the epoch): nothing read can be older news than this. */
  readonly startedAt: number;
  readonly entries: readonly TracedPath[];
}

export interface TracedPath {
  readonly path: string;
  readonly kind: 'file' | 'directory';
  /** Undefined: the path did not exist. */
  readonly stamp: string | undefined;
}

/** A ConfigIo that reads the real files and records what it read in `trace`. */
export function tracingConfigIo(): { io: ConfigIo; trace: ConfigTrace } {
  const entries: TracedPath[] = [];
  const trace: ConfigTrace = { startedAt: Date.now(), entries };
  const record = (path: string, kind: TracedPath['kind']) => {
    if (!entries.some((entry) => entry.path === path && entry.kind === kind)) entries.push({ path, kind, stamp: stampOf(path) });
  };
  const io: ConfigIo = {
    readFile: (path) => {
      // Stamped before reading: a change made while reading shows as a change afterwards.
      record(path, 'file');
      return fileConfigIo.readFile(path);
    },
    listDir: (path) => {
      record(path, 'directory');
      return fileConfigIo.listDir(path);
    },
  };
  return { io, trace };
}

/** The first traced path that is not what it was (created, removed, rewritten, replaced), or undefined. */
export function changedConfigPath(trace: ConfigTrace): string | undefined {
  return trace.entries.find((entry) => stampOf(entry.path) !== entry.stamp)?.path;
}

/** inode, size, mtime and ctime: a file copied over with its old mtime (cp -p) still has a new ctime. */
function stampOf(path: string): string | undefined {
  try {
    const stats = statSync(path, { bigint: true });
    return `${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** How the CLI was started: the fast path's descriptor is keyed by the exact arguments. */
export interface Invocation {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly configTrace: ConfigTrace;
}

let invocation: Invocation | undefined;

/**
 * Called by the CLI entry before it runs the command: remembers the arguments and environment
 * and returns the ConfigIo to resolve the configuration with, which traces what it reads.
 */
export function recordInvocation(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ConfigIo {
  const { io, trace } = tracingConfigIo();
  invocation = { argv: [...argv], env, configTrace: trace };
  return io;
}

/** The CLI invocation of this process; undefined when the command was run another way (the service, tests). */
export function currentInvocation(): Invocation | undefined {
  return invocation;
}
