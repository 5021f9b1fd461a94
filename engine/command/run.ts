import { writeSync } from 'node:fs';
import { join } from 'node:path';

import { parseCommandLine } from '../config/command-line.js';
import { commandTable, isCommandName } from '../config/command-table.js';
import { Config } from '../config/config.js';
import type { ConfigIo } from '../config/config-files.js';
import { resolveConfig } from '../config/resolve.js';
import { PgkeepError, toPgkeepError } from '../error/pgkeep-error.js';
import { log, type LogLevel, type LogSink } from '../log/logger.js';
import { PGKEEP_VERSION } from '../version.js';
import type { CommandEntry } from './command.js';
import { commandRegistry, implementedCommands } from './registry.js';

export interface RunOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly io?: ConfigIo;
  readonly out?: (text: string) => void;
  /** Binary output (repo-get); resolves once written. */
  readonly write?: (data: Uint8Array) => Promise<void>;
  readonly sink?: LogSink;
  readonly signal?: AbortSignal;
  /** The effective uid; root runs are refused for commands that write as the database user. */
  readonly uid?: number;
}

/**
 * Runs one pgkeep command from its arguments, as the CLI does, and returns the exit code: 0, the
 * code of the error from the error table, or what the command itself returns (archive-get's 1).
 */
export async function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<number> {
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  const write = options.write ?? writeStdout;
  const started = Date.now();
  let entry: CommandEntry | undefined;
  let configured = false;
  try {
    const commandLine = parseCommandLine(argv);
    const name = commandLine.command ?? 'help';
    entry = isCommandName(name) ? commandRegistry.get(name) : undefined;
    if (entry === undefined && isCommandName(name)) {
      throw new PgkeepError('CommandInvalid', `command '${name}' is a pgBackRest command pgkeep does not implement yet`, {
        hint: "run it with pgBackRest, which shares pgkeep's repositories and configuration; 'pgkeep help' lists the commands pgkeep runs",
      });
    }
    if (entry === undefined) {
      const suggestion = implementedCommands().find((candidate) => candidate.startsWith(name.slice(0, 4)));
      throw new PgkeepError('CommandInvalid', `unknown command '${name}'`, {
        hint:
          suggestion === undefined
            ? "'pgkeep help' lists the commands"
            : `did you mean '${suggestion}'? 'pgkeep help' lists the commands`,
      });
    }

    const config = entry.needsConfig
      ? resolveConfig({ command: entry.name, commandLine, env: options.env ?? process.env, io: options.io })
      : new Config(entry.name, commandLine.params, new Map(), { repo: [1], pg: [1] });

    // With --output=json standard output carries JSON alone: log lines go to standard error.
    const sink = options.sink ?? (config.stringOr('output') === 'json' ? stderrOnly : undefined);
    configureLog(config, sink);
    configured = true;
    for (const warning of config.warnings) log.warn(warning);

    const uid = options.uid ?? process.getuid?.() ?? -1;
    if (entry.refuseRoot && uid === 0 && !config.booleanOr('allow-root')) {
      throw new PgkeepError('RootRefused', `${entry.name} refuses to run as root`, {
        hint: 'run it as the user that owns the database (usually postgres), or pass --allow-root if you really mean it',
      });
    }

    if (entry.needsConfig)
      log.info(
        `${entry.name} command begin ${PGKEEP_VERSION}: ${[...config.params.map((p) => `[${p}]`), ...config.describe()].join(' ')}`,
      );
    const module = await entry.load();
    const code = await module.run({ config, out, write, signal: options.signal ?? new AbortController().signal });
    if (entry.needsConfig) log.info(`${entry.name} command end: completed successfully (${Date.now() - started}ms)`);
    return code;
  } catch (caught) {
    const error = toPgkeepError(caught);
    if (!configured) log.configure({ console: 'off', stderr: 'warn', file: 'off', timestamp: false, processId: 0 }, options.sink);
    log.error(error.text, error.code);
    if (error.errorName === 'Unhandled' && error.cause instanceof Error && error.cause.stack !== undefined)
      log.debug(error.cause.stack);
    if (entry?.needsConfig && configured)
      log.info(`${entry.name} command end: aborted with exception [${String(error.code).padStart(3, '0')}]`);
    return error.code;
  } finally {
    log.close();
  }
}

const stderrOnly: LogSink = {
  stdout: (text) => writeSync(2, text),
  stderr: (text) => writeSync(2, text),
};

function configureLog(config: Config, sink: LogSink | undefined): void {
  const level = (name: string, fallback: LogLevel): LogLevel => (config.stringOr(name) as LogLevel | undefined) ?? fallback;
  const def = commandTable[config.command];
  const logPath = config.stringOr('log-path');
  log.configure(
    {
      console: level('log-level-console', 'warn'),
      stderr: level('log-level-stderr', 'warn'),
      file: def.logFile ? level('log-level-file', 'info') : 'off',
      filePath: logPath === undefined ? undefined : join(logPath, `${config.stanza ?? 'all'}-${config.command}.log`),
      timestamp: config.booleanOr('log-timestamp') ?? true,
      processId: config.numberOr('process') ?? 0,
    },
    sink,
  );
  log.addSecrets(config.secrets());
}

/**
 * Writes to standard output, waiting until the data is handed to the system (a large repo-get stays
 * within a buffer's memory). A write that fails (the reader went away: `repo-get ... | head`)
 * rejects; the stream's own error event is handled here, or it would end the process.
 */
function writeStdout(data: Uint8Array): Promise<void> {
  if (process.stdout.listenerCount('error') === 0) process.stdout.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (error) => (error ? reject(error) : resolve()));
  });
}
