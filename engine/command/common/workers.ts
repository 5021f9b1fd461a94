import { forkWorker } from '../../exec/fork-worker.js';
import type { SpawnWorker } from '../../exec/channel.js';

/** The worker entry file, next to this module's directory once built (dist/engine/command/worker.js). */
export const WORKER_ENTRY = new URL('../worker.js', import.meta.url);

let spawner: SpawnWorker | undefined;

/**
 * How file-job workers are started. The CLI forks Node processes; the desktop app replaces this
 * with Electron's utilityProcess (main/electron) before it runs any job.
 */
export function workerSpawner(): SpawnWorker {
  return (spawner ??= forkWorker(WORKER_ENTRY));
}

export function setWorkerSpawner(spawn: SpawnWorker): void {
  spawner = spawn;
}
