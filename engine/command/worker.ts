// The entry file of worker processes (backup, restore and verify file jobs). The CLI forks it with
// Node; the desktop app starts the same file with Electron's utilityProcess. Each job kind's code is
// loaded on first use, so a restore worker does not load the backup code.
import type { JobContext, JobHandler } from '../exec/job.js';
import { runWorker } from '../exec/worker.js';
import { parentPortChannel, type ParentPortLike } from '../exec/parent-port-channel.js';
import { JOBS_PER_WORKER } from './common/workers.js';

interface JobModule {
  readonly handler: JobHandler<never, unknown>;
}

function lazy(load: () => Promise<JobModule>): JobHandler<never, unknown> {
  let loaded: Promise<JobModule> | undefined;
  const handler = async (data: never, context: JobContext) => (await (loaded ??= load())).handler(data, context);
  // A load that fails is reported by the first job, which awaits the same promise.
  const warm = () => void (loaded ??= load()).catch(() => undefined);
  return Object.assign(handler, { warm });
}

export const jobHandlers = {
  'backup-file': lazy(() => import('./backup/backup-file.js')),
  'restore-file': lazy(() => import('./restore/restore-file.js')),
  'verify-file': lazy(() => import('./verify/verify-file.js')),
};

// Electron's utilityProcess gives the child process.parentPort instead of Node's IPC channel.
const parentPort = (process as NodeJS.Process & { parentPort?: ParentPortLike }).parentPort;
runWorker(jobHandlers, {
  concurrency: JOBS_PER_WORKER,
  ...(parentPort === undefined ? {} : { channel: parentPortChannel(parentPort) }),
});
