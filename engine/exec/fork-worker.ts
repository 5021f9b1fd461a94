import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { log } from '../log/logger.js';
import type { SpawnWorker, WorkerChannel } from './channel.js';

export interface ForkWorkerOptions {
  /** Node options for the worker (default: the parent's, as fork does). */
  readonly execArgv?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** The node binary (default: the parent's). */
  readonly execPath?: string;
}

/**
 * Spawns workers as Node child processes running `entry` (a worker entry file that calls
 * runWorker). Advanced serialization lets Buffers and typed arrays cross as they are. Workers get
 * no stdin; their stdout and stderr are the parent's, so a crash message is not lost.
 */
export function forkWorker(entry: string | URL, options: ForkWorkerOptions = {}): SpawnWorker {
  const modulePath = entry instanceof URL ? fileURLToPath(entry) : entry;
  return () => {
    const child = fork(modulePath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.execPath === undefined ? {} : { execPath: options.execPath }),
    });
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    let exited = false;
    const reportExit = (code: number | null, signal: string | null) => {
      // Only once, whichever of 'error' and 'exit' comes first (Node may emit both for one failure).
      /* v8 ignore next */
      if (exited) return;
      exited = true;
      for (const listener of exitListeners) listener(code, signal);
    };
    child.on('exit', reportExit);
    child.on('error', (error) => {
      // A process that could not be spawned has no exit event to wait for. Nothing else can raise
      // 'error' here: sends have a callback, and SIGKILL of our own child cannot fail.
      log.warn(`unable to start worker '${modulePath}': ${error.message}`);
      reportExit(null, null);
    });
    const channel: WorkerChannel = {
      pid: child.pid,
      send: (message) => {
        // Serialization errors throw here; a worker that is gone reports its exit instead.
        child.send(message, () => {});
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => exitListeners.push(listener),
      kill: () => child.kill('SIGKILL'),
    };
    return channel;
  };
}
