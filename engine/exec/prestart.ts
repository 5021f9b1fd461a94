import type { SpawnWorker, WorkerChannel } from './channel.js';

/** Workers started ahead of the run that will use them; see prestartWorkers. */
export interface PrestartedWorkers {
  /** Hands out the started workers first, in order, then spawns new ones. */
  readonly spawn: SpawnWorker;
  /** Kills the started workers no run took (a plan that failed, a run small enough for this process). */
  dispose(): void;
}

/**
 * Starts `count` workers now, for a run that begins later: a worker process takes about 0.1 s to
 * start, which it then does while the command still plans (a delta restore waits for its
 * checksums' workers 0.1 s less). The workers also load the code of the `warm` handlers at once
 * (restore-file: 45 ms) instead of on their first job. Until a run takes a worker, what it says
 * and its exit are kept, and given to the run's listeners when they attach.
 */
export function prestartWorkers(spawn: SpawnWorker, count: number, warm: readonly string[] = []): PrestartedWorkers {
  const waiting = Array.from({ length: count }, (_, index) => {
    const channel = spawn(index + 1);
    if (warm.length > 0) channel.send({ type: 'warm', handlers: warm });
    return held(channel);
  });
  return {
    spawn: (processId) => waiting.shift()?.() ?? spawn(processId),
    dispose: () => {
      for (const take of waiting.splice(0)) take().kill();
    },
  };
}

/** Keeps a channel's messages and exit until it is taken; the returned function takes it. */
function held(channel: WorkerChannel): () => WorkerChannel {
  const messages: unknown[] = [];
  let exit: [number | null, string | null] | undefined;
  let messageListener: ((message: unknown) => void) | undefined;
  let exitListener: ((code: number | null, signal: string | null) => void) | undefined;
  channel.onMessage((message) => (messageListener === undefined ? messages.push(message) : messageListener(message)));
  channel.onExit((code, signal) => {
    if (exitListener === undefined) exit = [code, signal];
    else exitListener(code, signal);
  });
  return () => ({
    pid: channel.pid,
    send: (message) => channel.send(message),
    kill: () => channel.kill(),
    onMessage: (listener) => {
      messageListener = listener;
      for (const message of messages.splice(0)) listener(message);
    },
    onExit: (listener) => {
      exitListener = listener;
      if (exit !== undefined) listener(...exit);
    },
  });
}
