import { deserialize, serialize } from 'node:v8';

import type { ParentChannel, SpawnWorker, WorkerChannel } from './channel.js';
import type { JobHandlers } from './job.js';
import { runWorker } from './worker.js';

/**
 * Workers that run in this process: the handlers are called directly, through the same worker
 * runtime and the same pool logic (queues, retries, progress), so tiny runs and tests need no
 * process. Messages are copied with Node's advanced serialization as they are between processes,
 * so a job or result that could not cross a process boundary fails here too, and delivered on a
 * later turn of the event loop. kill() aborts the handler's signal and drops whatever it still
 * sends; a handler that ignores the signal runs on, unobserved.
 */
export function inProcessWorker(handlers: JobHandlers, options: { readonly progressIntervalMs?: number } = {}): SpawnWorker {
  return () => {
    const toWorker: ((message: unknown) => void)[] = [];
    const toParent: ((message: unknown) => void)[] = [];
    const disconnectListeners: (() => void)[] = [];
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    let open = true;

    const deliver = (listeners: readonly ((message: unknown) => void)[], message: unknown) => {
      const copy = deserialize(serialize(message)) as unknown;
      setImmediate(() => {
        if (open) for (const listener of listeners) listener(copy);
      });
    };
    const end = (code: number | null, signal: string | null) => {
      if (!open) return;
      open = false;
      for (const listener of disconnectListeners) listener();
      setImmediate(() => {
        for (const listener of exitListeners) listener(code, signal);
      });
    };

    const workerEnd: ParentChannel = {
      send: (message) => deliver(toParent, message),
      onMessage: (listener) => toWorker.push(listener),
      onDisconnect: (listener) => disconnectListeners.push(listener),
      close: () => {},
    };
    const parentEnd: WorkerChannel = {
      pid: undefined,
      send: (message) => deliver(toWorker, message),
      onMessage: (listener) => toParent.push(listener),
      onExit: (listener) => exitListeners.push(listener),
      kill: () => end(null, 'SIGKILL'),
    };
    runWorker(handlers, { channel: workerEnd, exit: (code) => end(code, null), progressIntervalMs: options.progressIntervalMs });
    return parentEnd;
  };
}
