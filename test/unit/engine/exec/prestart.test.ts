import { describe, expect, it } from 'vitest';

import { inProcessWorker } from '../../../../engine/exec/in-process.js';
import { EXEC_PROTOCOL } from '../../../../engine/exec/messages.js';
import { runJobs } from '../../../../engine/exec/pool.js';
import { prestartWorkers } from '../../../../engine/exec/prestart.js';
import { job, ScriptedWorker } from './helpers.js';

/** `count` scripted workers started ahead, and the list of every worker spawned. */
function scripted(count: number) {
  const workers: ScriptedWorker[] = [];
  const started = prestartWorkers(() => {
    const worker = new ScriptedWorker();
    workers.push(worker);
    return worker;
  }, count);
  return { started, workers };
}

describe('prestartWorkers', () => {
  it('starts the workers at once and hands them out in order, then spawns new ones', () => {
    const spawned: number[] = [];
    const started = prestartWorkers((processId) => {
      spawned.push(processId);
      return new ScriptedWorker();
    }, 2);
    expect(spawned).toEqual([1, 2]);
    started.spawn(1);
    started.spawn(2);
    expect(spawned).toEqual([1, 2]);
    started.spawn(3);
    expect(spawned).toEqual([1, 2, 3]);
  });

  it('keeps what a worker said and its exit until a run takes it, then passes everything on', () => {
    const { started, workers } = scripted(1);
    workers[0]!.emit({ type: 'ready', protocol: EXEC_PROTOCOL });
    workers[0]!.exit(3, null);
    const channel = started.spawn(1);
    expect(channel.pid).toBe(4242);
    const heard: unknown[] = [];
    const exits: unknown[] = [];
    channel.onMessage((message) => heard.push(message));
    channel.onExit((code, signal) => exits.push([code, signal]));
    expect(heard).toEqual([{ type: 'ready', protocol: EXEC_PROTOCOL }]);
    expect(exits).toEqual([[3, null]]);
    // Once taken, messages go straight through, and sends and kills reach the worker.
    workers[0]!.emit('later');
    expect(heard.at(-1)).toBe('later');
    channel.send({ type: 'stop' });
    channel.kill();
    expect(workers[0]!.sent).toEqual([{ type: 'stop' }]);
    expect(workers[0]!.kills).toBe(1);
  });

  it('tells each started worker which handlers to load, when asked to', () => {
    const workers: ScriptedWorker[] = [];
    prestartWorkers(
      () => {
        const worker = new ScriptedWorker();
        workers.push(worker);
        return worker;
      },
      2,
      ['restore-file'],
    );
    expect(workers.map((worker) => worker.sent)).toEqual([
      [{ type: 'warm', handlers: ['restore-file'] }],
      [{ type: 'warm', handlers: ['restore-file'] }],
    ]);
    // Without handlers to warm, nothing is sent before a run takes the worker.
    expect(scripted(1).workers[0]!.sent).toEqual([]);
  });

  it('kills the workers no run took when disposed', () => {
    const { started, workers } = scripted(3);
    started.spawn(1);
    started.dispose();
    expect(workers.map((worker) => worker.kills)).toEqual([0, 1, 1]);
    started.dispose();
    expect(workers.map((worker) => worker.kills)).toEqual([0, 1, 1]);
  });

  it('gives a run workers that were ready before it began', async () => {
    const started = prestartWorkers(inProcessWorker({ echo: (data: unknown) => data }), 2);
    // The in-process workers say ready on the next turn: long before the run starts.
    await new Promise((resolve) => setTimeout(resolve, 10));
    const results: unknown[] = [];
    await runJobs([job('a', 2, 'echo', 'A'), job('b', 1, 'echo', 'B')], {
      processMax: 2,
      spawn: started.spawn,
      onResult: (_job, result) => {
        results.push(result);
      },
    });
    expect(results.sort()).toEqual(['A', 'B']);
    started.dispose();
  });
});
