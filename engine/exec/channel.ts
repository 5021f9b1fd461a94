import type { FromWorker, ToWorker } from './messages.js';

/**
 * The parent's end of one worker process: the little the pool needs, whatever started the process.
 * Node's `child_process.fork` (see fork-worker.ts) and Electron's `utilityProcess.fork`
 * (postMessage, on('message'), on('exit'), kill()) both fit it, as does the in-process worker.
 */
export interface WorkerChannel {
  /** The OS process id, when there is a process. */
  readonly pid: number | undefined;
  /** Throws when the message cannot be serialized; a worker that is gone drops it (its exit is reported). */
  send(message: ToWorker): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the process has ended, whatever the cause (also when it never started). */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /** Ends the process now (SIGKILL for Node children); its exit is reported through onExit. */
  kill(): void;
}

/** Starts the worker for a pool slot (`processId` is 1-based); the pool waits for its ready message. */
export type SpawnWorker = (processId: number) => WorkerChannel;

/**
 * The worker's end of the link to its parent. In Node it is process.send / process.on('message') /
 * 'disconnect' (node-parent-channel.ts, runWorker's default); an Electron utility process passes
 * parentPortChannel(process.parentPort) (parent-port-channel.ts) to runWorker.
 */
export interface ParentChannel {
  send(message: FromWorker): void;
  onMessage(listener: (message: unknown) => void): void;
  /** The parent is gone (it died or closed the link): the worker must end. */
  onDisconnect(listener: () => void): void;
  /** Closes the link so the process can exit. */
  close(): void;
}
