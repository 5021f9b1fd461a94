import { PgkeepError } from '../error/pgkeep-error.js';
import type { ParentChannel } from './channel.js';

/*
 * This runs only inside forked worker processes, which the test process's coverage cannot see;
 * test/integration/exec exercises all of it for real (jobs, stop, SIGKILL of the parent).
 */
/* v8 ignore start */

/**
 * The worker's end of Node's IPC channel (the worker was started with child_process.fork). When
 * the parent dies, even by SIGKILL, the channel closes and 'disconnect' fires, so no worker
 * outlives its pool.
 */
export function nodeParentChannel(): ParentChannel {
  if (process.send === undefined) {
    throw new PgkeepError('Execute', `worker entry '${process.argv[1] ?? ''}' has no IPC channel to a parent`, {
      hint: 'worker entries are started by the job pool (forkWorker), not by hand',
    });
  }
  // Ctrl-C reaches the whole process group: the parent decides (it cancels the run and stops its
  // workers, or it dies and the disconnect ends them), so a worker does not die under a running job.
  process.on('SIGINT', () => {});
  return {
    send: (message) => {
      // Serialization errors throw here; a closed channel is reported by 'disconnect', not as an error.
      process.send!(message, undefined, undefined, () => {});
    },
    onMessage: (listener) => process.on('message', listener),
    onDisconnect: (listener) => process.on('disconnect', listener),
    close: () => {
      if (process.connected) process.disconnect();
    },
  };
}
/* v8 ignore stop */
