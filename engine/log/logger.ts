import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync, closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const logLevels = ['off', 'error', 'warn', 'info', 'detail', 'debug', 'trace'] as const;
export type LogLevel = (typeof logLevels)[number];

const rank: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, detail: 4, debug: 5, trace: 6 };

export interface LogSettings {
  readonly console: LogLevel;
  readonly stderr: LogLevel;
  readonly file: LogLevel;
  /** The log file; undefined or `file: off` writes none. */
  readonly filePath?: string | undefined;
  readonly timestamp: boolean;
  /** P00 is the main process, P01... the workers. */
  readonly processId: number;
}

/** Where log lines go; tests and the service capture them instead of printing. */
export interface LogSink {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processSink: LogSink = {
  stdout: (text) => writeAll(1, text),
  stderr: (text) => writeAll(2, text),
};

function writeAll(fd: number, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    // a closed terminal must not turn a log line into a failure
  }
}

export interface LogRecord {
  readonly level: Exclude<LogLevel, 'off'>;
  readonly message: string;
  readonly code?: number | undefined;
  readonly time: Date;
  /** The scope the line was logged in (a service job's id), see Logger.scoped. */
  readonly scope: string | undefined;
}

const scopes = new AsyncLocalStorage<string>();

/**
 * pgBackRest's log format: `2026-11-21 04:51:59.523 P00   INFO: message` on standard output and in
 * the log file, `ERROR: [031]: message` on standard error. A message goes to standard error when
 * its level is within log-level-stderr, else to standard output when within log-level-console.
 * Every line passes through redaction of the secrets the configuration holds.
 */
export class Logger {
  private settings: LogSettings = { console: 'off', stderr: 'warn', file: 'off', timestamp: true, processId: 0 };
  private sink: LogSink = processSink;
  private secrets: string[] = [];
  private fileFd: number | undefined;
  private listeners = new Set<(record: LogRecord) => void>();

  configure(settings: LogSettings, sink: LogSink = processSink): void {
    this.closeFile();
    this.settings = settings;
    this.sink = sink;
    if (settings.filePath !== undefined && settings.file !== 'off') this.openFile(settings.filePath);
  }

  /** Values that must never appear in any log line (passphrases, keys). */
  addSecrets(values: readonly string[]): void {
    for (const value of values) if (value.length > 0 && !this.secrets.includes(value)) this.secrets.push(value);
  }

  /** Receives every record at any level (the service streams them to the UI). */
  subscribe(listener: (record: LogRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs work so that every line it logs, in any async continuation, carries `scope`: the
   * service runs several jobs in one process and shows each its own log.
   */
  scoped<T>(scope: string, work: () => Promise<T>): Promise<T> {
    return scopes.run(scope, work);
  }

  enabled(level: Exclude<LogLevel, 'off'>): boolean {
    const limit = Math.max(
      rank[this.settings.console],
      rank[this.settings.stderr],
      this.fileFd === undefined ? 0 : rank[this.settings.file],
    );
    return rank[level] <= limit || this.listeners.size > 0;
  }

  error(message: string, code?: number): void {
    this.write('error', message, code);
  }
  warn(message: string): void {
    this.write('warn', message);
  }
  info(message: string): void {
    this.write('info', message);
  }
  detail(message: string): void {
    this.write('detail', message);
  }
  debug(message: string): void {
    this.write('debug', message);
  }

  close(): void {
    this.closeFile();
  }

  private write(level: Exclude<LogLevel, 'off'>, rawMessage: string, code?: number): void {
    const message = this.redact(rawMessage);
    const time = new Date();
    const scope = scopes.getStore();
    for (const listener of this.listeners) listener({ level, message, code, time, scope });

    const label = level.toUpperCase().padStart(6);
    const body = code === undefined ? message : `[${String(code).padStart(3, '0')}]: ${message}`;
    const stamp = this.settings.timestamp ? `${formatTimestamp(time)} ` : '';
    const full = indent(`${stamp}P${String(this.settings.processId).padStart(2, '0')} ${label}: `, body);

    if (rank[level] <= rank[this.settings.stderr]) this.sink.stderr(indent(`${level.toUpperCase()}: `, body));
    else if (rank[level] <= rank[this.settings.console]) this.sink.stdout(full);
    if (this.fileFd !== undefined && rank[level] <= rank[this.settings.file]) {
      try {
        writeSync(this.fileFd, full);
      } catch {
        this.closeFile();
      }
    }
  }

  private redact(message: string): string {
    let result = message;
    for (const secret of this.secrets) result = result.split(secret).join('<redacted>');
    return result;
  }

  private openFile(path: string): void {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
      this.fileFd = openSync(path, 'a', 0o640);
      appendFileSync(this.fileFd, '-------------------PROCESS START-------------------\n');
    } catch (error) {
      this.fileFd = undefined;
      this.warn(
        `unable to open log file '${path}': ${(error as Error).message}\nHINT: set log-path to a directory this user can write, or log-level-file=off`,
      );
    }
  }

  private closeFile(): void {
    if (this.fileFd !== undefined) {
      try {
        closeSync(this.fileFd);
      } catch {
        // already closed
      }
      this.fileFd = undefined;
    }
  }
}

/** Continuation lines line up under the first line's message. */
function indent(prefix: string, body: string): string {
  const pad = ' '.repeat(prefix.length);
  return prefix + body.split('\n').join(`\n${pad}`) + '\n';
}

function formatTimestamp(time: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    `${time.getFullYear()}-${two(time.getMonth() + 1)}-${two(time.getDate())} ` +
    `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}.${String(time.getMilliseconds()).padStart(3, '0')}`
  );
}

/** The process's logger. */
export const log = new Logger();
