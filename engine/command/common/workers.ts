import { forkWorker } from '../../exec/fork-worker.js';
import type { SpawnWorker } from '../../exec/channel.js';

/** The worker entry file, next to this module's directory once built (dist/engine/command/worker.js). */
export const WORKER_ENTRY = new URL('../worker.js', import.meta.url);

/**
 * File jobs one worker process runs at once, and how many the pool sends ahead to it. A file job
 * waits on the disk (reads, fsync) as much as it computes; a few at once keep both busy, so
 * process-max processes do the work of more. (A backup worker still streams one large file at a
 * time: see backup-file.ts.)
 */
export const JOBS_PER_WORKER = 3;
export const JOBS_SENT_AHEAD = JOBS_PER_WORKER + 1;

let spawner: SpawnWorker | undefined;

/**
 * How file-job workers are started. The CLI forks Node processes; the desktop app replaces this
 * with Electron's utilityProcess (main/electron) before it runs any job.
 */
export function workerSpawner(): SpawnWorker {
  // Two malloc arenas instead of one per thread: lz4 compresses in libuv's threads, and per-thread
  // arenas keep freed frame buffers as resident memory (measured: tens of MB per worker).
  return (spawner ??= forkWorker(WORKER_ENTRY, {
    env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' },
  }));
}

export function setWorkerSpawner(spawn: SpawnWorker): void {
  spawner = spawn;
}
