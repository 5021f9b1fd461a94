import type { SpawnWorker, WorkerChannel } from '../../../../engine/exec/channel.js';
import { inProcessWorker } from '../../../../engine/exec/in-process.js';
import type { Job, JobHandlers } from '../../../../engine/exec/job.js';
import type { ToWorker } from '../../../../engine/exec/messages.js';
import { log, type LogRecord } from '../../../../engine/log/logger.js';

export function job(key: string, size: number, handler = 'echo', data: unknown = {}, queue: string | number = 0): Job {
  return { key, size, handler, queue, data };
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/** Log records while `body` runs; nothing is printed. */
export async function captureLog<T>(
  body: () => Promise<T>,
): Promise<{ value: T | undefined; error: unknown; records: LogRecord[] }> {
  const records: LogRecord[] = [];
  log.configure({ console: 'off', stderr: 'off', file: 'off', timestamp: false, processId: 0 });
  const unsubscribe = log.subscribe((record) => records.push(record));
  try {
    return { value: await body(), error: undefined, records };
  } catch (error) {
    return { value: undefined, error, records };
  } finally {
    unsubscribe();
  }
}

export interface Hooks {
  /** After a message went to the worker. */
  sent?(channel: WorkerChannel, message: ToWorker, processId: number): void;
  /** After the pool handled a message from the worker. */
  received?(channel: WorkerChannel, message: unknown, processId: number): void;
}

/** In-process workers with a look at (and a hand on) the traffic: tests kill workers at chosen moments. */
export function hookedWorkers(handlers: JobHandlers, hooks: Hooks, spawned: WorkerChannel[] = []): SpawnWorker {
  const spawn = inProcessWorker(handlers);
  return (processId) => {
    const inner = spawn(processId);
    spawned.push(inner);
    return {
      pid: inner.pid,
      send: (message) => {
        inner.send(message);
        hooks.sent?.(inner, message, processId);
      },
      onMessage: (listener) =>
        inner.onMessage((message) => {
          listener(message);
          hooks.received?.(inner, message, processId);
        }),
      onExit: (listener) => inner.onExit(listener),
      kill: () => inner.kill(),
    };
  };
}

/** A worker that does only what the test tells it to: for the cases a real worker cannot be made to show. */
export class ScriptedWorker implements WorkerChannel {
  readonly pid = 4242;
  readonly sent: ToWorker[] = [];
  kills = 0;
  private ended = false;
  private readonly messageListeners: ((message: unknown) => void)[] = [];
  private readonly exitListeners: ((code: number | null, signal: string | null) => void)[] = [];

  constructor(private readonly behaviour: { exitOnStop?: boolean; exitOnKill?: boolean } = {}) {}

  send(message: ToWorker): void {
    this.sent.push(message);
    if (message.type === 'stop' && (this.behaviour.exitOnStop ?? true)) setImmediate(() => this.exit(0, null));
  }
  onMessage(listener: (message: unknown) => void): void {
    this.messageListeners.push(listener);
  }
  onExit(listener: (code: number | null, signal: string | null) => void): void {
    this.exitListeners.push(listener);
  }
  kill(): void {
    this.kills++;
    if (this.behaviour.exitOnKill ?? true) setImmediate(() => this.exit(null, 'SIGKILL'));
  }

  emit(message: unknown): void {
    for (const listener of this.messageListeners) listener(message);
  }
  exit(code: number | null, signal: string | null): void {
    if (this.ended) return;
    this.ended = true;
    for (const listener of this.exitListeners) listener(code, signal);
  }
}
