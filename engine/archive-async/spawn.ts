import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { parseCommandLine, type Setting } from '../config/command-line.js';
import type { Config } from '../config/config.js';
import { log } from '../log/logger.js';
import { currentInvocation } from './config-trace.js';

export type AsyncMode = 'archive-push' | 'archive-get';

/** The entry file of the background processes (async-main.ts, built). */
export const ASYNC_ENTRY = fileURLToPath(new URL('./async-main.js', import.meta.url));

/** Options the background process must not inherit: it never writes to a terminal. */
const DROPPED = new Set(['log-level-console', 'log-level-stderr']);
const QUIET = ['--log-level-console=off', '--log-level-stderr=off'];

/**
 * The command line of the background process: the foreground's own options (so it resolves the
 * same configuration: same files, same overrides; the environment is inherited), console output
 * off, then the parameters. Taken from the CLI's arguments when there are some, which keeps
 * `--no-config` and `--reset-x`; otherwise rebuilt from the options set on the command line.
 */
export function backgroundArgs(mode: AsyncMode, config: Config, params: readonly string[]): string[] {
  const invocation = currentInvocation();
  const options =
    invocation === undefined ? optionsOfConfig(config) : renderSettings(parseCommandLine(invocation.argv).settings.values());
  return [ASYNC_ENTRY, mode, ...options, ...QUIET, ...params];
}

/** Settings as command-line words, exactly as given: --key=value, --key, --no-key, --reset-key. */
export function renderSettings(settings: Iterable<Setting>): string[] {
  const words: string[] = [];
  for (const setting of settings) {
    if (DROPPED.has(setting.key)) continue;
    if (setting.ref.negate) words.push(`--no-${setting.key}`);
    else if (setting.ref.reset) words.push(`--reset-${setting.key}`);
    else if (setting.texts.length === 0) words.push(`--${setting.key}`);
    else for (const text of setting.texts) words.push(`--${setting.key}=${text}`);
  }
  return words;
}

function optionsOfConfig(config: Config): string[] {
  const words: string[] = [];
  for (const option of config.all()) {
    if (option.source !== 'command-line' || DROPPED.has(option.key)) continue;
    if (typeof option.value === 'boolean') words.push(option.value ? `--${option.key}` : `--no-${option.key}`);
    // Every non-boolean option set on the command line keeps its texts as written.
    else for (const text of option.texts!) words.push(`--${option.key}=${text}`);
  }
  return words;
}

/**
 * Starts the background process and does not wait for it: its own session (a signal to
 * PostgreSQL's archiver does not reach it), no terminal, no inherited descriptors, so the
 * foreground can exit at once and PostgreSQL is not kept waiting on a pipe. Like pgBackRest's
 * double fork + exec. Returns the pid (undefined when the process could not be created), so the
 * foreground can tell a background process still starting from one that died.
 */
export function spawnBackground(args: readonly string[], cwd: string): number | undefined {
  const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore', cwd, env: process.env });
  // Failing to start is seen by the foreground as no status file until its timeout: say why.
  child.on('error', (error) => log.warn(`unable to start the asynchronous process: ${error.message}`));
  child.unref();
  return child.pid;
}
