import { EventEmitter } from 'node:events';

import { describe, expect, it } from 'vitest';

import { EXEC_PROTOCOL } from '../../../../engine/exec/messages.js';
import { parentPortChannel, type ParentPortLike } from '../../../../engine/exec/parent-port-channel.js';
import { runWorker } from '../../../../engine/exec/worker.js';
import { sleep } from './helpers.js';

/** Stands in for Electron's process.parentPort: 'message' events carry the message in `data`. */
class TestPort extends EventEmitter implements ParentPortLike {
  readonly posted: unknown[] = [];
  postMessage(message: unknown): void {
    this.posted.push(structuredClone(message));
  }
}

describe('parentPortChannel', () => {
  it('runs a worker over an Electron-style parent port', async () => {
    const port = new TestPort();
    const exits: number[] = [];
    runWorker(
      { double: (data: { n: number }) => data.n * 2 },
      { channel: parentPortChannel(port), exit: (code) => exits.push(code) },
    );
    expect(port.posted).toEqual([{ type: 'ready', protocol: EXEC_PROTOCOL }]);
    port.emit('message', { data: { type: 'init', processId: 1, init: null } });
    port.emit('message', {
      data: { type: 'job', id: 7, handler: 'double', key: 'k', size: 1, queue: 0, attempt: 1, data: { n: 21 } },
    });
    await sleep(5);
    expect(port.posted[1]).toEqual({ type: 'result', id: 7, result: 42 });
    port.emit('message', { data: { type: 'stop' } });
    expect(exits).toEqual([0]);
  });
});
