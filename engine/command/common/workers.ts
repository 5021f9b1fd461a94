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
/**
 * File jobs of more than 256 KiB are large (runJobs' largeJob): backup and restore stream them one
 * at a time per worker (smaller files are read whole), and a delta's hash of one takes a worker's
 * thread for long. Sent ahead to a worker busy with another, such a job would wait there while the
 * other workers run out of work: a 224 MB segment queued behind a 1 GiB one made a process-max 2
 * backup of pgbench scale 100 wait 0.6 s for one worker at the end.
 */
export const LARGE_FILE_JOB = 256 * 1024 + 1;

let spawner: SpawnWorker | undefined;

/**
 * How file-job workers are started. The CLI forks Node processes; the desktop app replaces this
 * with Electron's utilityProcess (main/electron) before it runs any job.
 */
export function workerSpawner(): SpawnWorker {
  // Two malloc arenas instead of one per thread, and two thread-pool threads instead of four: lz4
  // compresses in libuv's threads (two blocks at a time, see lz4-compress.ts), and each thread's
  // arena (glibc's, and lz4-napi's mimalloc heap) keeps freed block buffers as resident memory.
  // Measured on a scale-200 pgbench backup: median peak 150 MB instead of 170 MB at process-max
  // 2, 164 instead of 170 at process-max 1, same wall time.
  return (spawner ??= forkWorker(WORKER_ENTRY, {
    env: {
      ...process.env,
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '2',
    },
  }));
}

export function setWorkerSpawner(spawn: SpawnWorker): void {
  spawner = spawn;
}
