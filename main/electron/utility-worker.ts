import { fileURLToPath } from 'node:url';

import { utilityProcess } from 'electron';

import type { SpawnWorker } from '../../engine/exec/channel.js';
import { WORKER_ENTRY } from '../../engine/command/common/workers.js';

/**
 * Worker processes of the desktop app: Electron's utilityProcess running the same worker entry
 * as the CLI's forked Node processes (the entry detects process.parentPort).
 */
export const utilityWorker: SpawnWorker = (processId) => {
  const child = utilityProcess.fork(fileURLToPath(WORKER_ENTRY), [], {
    serviceName: `pgkeep worker ${processId}`,
    stdio: 'inherit',
  });
  return {
    get pid() {
      return child.pid;
    },
    send: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.once('exit', (code) => listener(code, null)),
    kill: () => {
      child.kill();
    },
  };
};
