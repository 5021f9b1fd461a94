import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serialize } from 'node:v8';

import { describe, expect, it } from 'vitest';

import type { ParentChannel } from '../../../../engine/exec/channel.js';
import type { JobHandlers } from '../../../../engine/exec/job.js';
import { EXEC_PROTOCOL, type FromWorker, type JobMessage } from '../../../../engine/exec/messages.js';
import { runWorker } from '../../../../engine/exec/worker.js';
import { sleep } from './helpers.js';

/** The worker's end of a link to a test standing in for the pool; sending serializes as Node's IPC does. */
class TestParent implements ParentChannel {
  readonly received: FromWorker[] = [];
  closed = 0;
  private messageListener: ((message: unknown) => void) | undefined;
  private disconnectListener: (() => void) | undefined;

  send(message: FromWorker): void {
    serialize(message);
    this.received.push(message);
  }
  onMessage(listener: (message: unknown) => void): void {
    this.messageListener = listener;
  }
  onDisconnect(listener: () => void): void {
    this.disconnectListener = listener;
  }
  close(): void {
    this.closed++;
  }

  post(message: unknown): void {
    this.messageListener!(message);
  }
  disconnect(): void {
    this.disconnectListener!();
  }
  replies(): FromWorker[] {
    return this.received.filter((message) => message.type !== 'ready');
  }
}

let nextId = 1;
function jobMessage(handler: string, data: unknown = {}, key = `job-${nextId}`): JobMessage {
  return { type: 'job', id: nextId++, handler, key, size: 100, queue: 0, attempt: 1, data };
}

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited++) {
    if (waited > 500) throw new Error('condition not met in time');
    await sleep(2);
  }
}

function start(handlers: JobHandlers, progressIntervalMs?: number) {
  const parent = new TestParent();
  const exits: number[] = [];
  runWorker(handlers, { channel: parent, exit: (code) => exits.push(code), progressIntervalMs });
  return { parent, exits };
}

describe('runWorker', () => {
  it('says it is ready, then runs jobs one at a time in the order sent', async () => {
    const order: string[] = [];
    const { parent } = start({
      slow: async (data: { name: string; ms: number }, context) => {
        order.push(`start ${data.name} on P${context.processId} with ${JSON.stringify(context.init)}`);
        await sleep(data.ms);
        order.push(`end ${data.name}`);
        return data.name;
      },
    });
    expect(parent.received).toEqual([{ type: 'ready', protocol: EXEC_PROTOCOL }]);
    parent.post({ type: 'init', processId: 3, init: { repo: '/r' } });
    const first = jobMessage('slow', { name: 'first', ms: 20 });
    const second = jobMessage('slow', { name: 'second', ms: 1 });
    parent.post(first);
    parent.post(second);
    await until(() => parent.replies().length === 2);
    expect(order).toEqual([
      'start first on P3 with {"repo":"/r"}',
      'end first',
      'start second on P3 with {"repo":"/r"}',
      'end second',
    ]);
    expect(parent.replies()).toEqual([
      { type: 'result', id: first.id, result: 'first' },
      { type: 'result', id: second.id, result: 'second' },
    ]);
    // idle again: a later job starts a new round
    const third = jobMessage('slow', { name: 'third', ms: 1 });
    parent.post(third);
    await until(() => parent.replies().length === 3);
    expect(parent.replies()[2]).toEqual({ type: 'result', id: third.id, result: 'third' });
  });

  it('loads the code of the handlers it is told to warm, ignoring names it does not have', () => {
    const warmed: string[] = [];
    const withWarm = Object.assign(() => 'done', { warm: () => warmed.push('lazy') });
    const { parent } = start({ lazy: withWarm, plain: () => 'plain' });
    parent.post({ type: 'warm', handlers: ['lazy', 'plain', 'unknown', 'toString'] });
    expect(warmed).toEqual(['lazy']);
    expect(parent.replies()).toEqual([]);
  });

  it('ignores what is not a message of the pool', async () => {
    const { parent, exits } = start({});
    parent.post('stop');
    parent.post({ type: 'result', id: 1 });
    parent.post(undefined);
    await sleep(2);
    expect(parent.received).toHaveLength(1);
    expect(exits).toEqual([]);
  });

  it('replies with errors as data, and fails a job whose result cannot be serialized', async () => {
    const { parent } = start({
      fails: (_data: unknown, context) => readFileSync(join('/nonexistent', context.key)),
      unsendable: () => ({ stream: () => 'not data' }),
    });
    const fails = jobMessage('fails', {}, 'pg_data/PG_VERSION');
    const unsendable = jobMessage('unsendable', {}, 'pg_data/global/pg_control');
    parent.post(fails);
    parent.post(unsendable);
    await until(() => parent.replies().length === 2);
    const [first, second] = parent.replies();
    expect(first).toMatchObject({
      type: 'error',
      id: fails.id,
      error: {
        name: 'FileMissing',
        code: 55,
        message: expect.stringContaining("no such file or directory, open '/nonexistent/pg_data/PG_VERSION'"),
      },
    });
    expect(second).toMatchObject({
      type: 'error',
      id: unsendable.id,
      error: {
        name: 'Assert',
        message: expect.stringMatching(/^the result of job 'pg_data\/global\/pg_control' cannot be sent: /),
      },
    });
  });

  it('sends progress at most once per interval, and none after it ended', async () => {
    let report: ((bytes: number) => void) | undefined;
    let finish: (() => void) | undefined;
    const { parent } = start(
      {
        big: (_data: unknown, context) =>
          new Promise<number>((resolve) => {
            report = (bytes) => context.progress(bytes);
            finish = () => resolve(context.size);
          }),
      },
      40,
    );
    const big = jobMessage('big');
    parent.post(big);
    await until(() => report !== undefined);
    report!(1);
    report!(2);
    report!(3);
    await sleep(50);
    report!(4);
    finish!();
    await until(() => parent.replies().some((message) => message.type === 'result'));
    expect(parent.replies()).toEqual([
      { type: 'progress', id: big.id, bytes: 1 },
      { type: 'progress', id: big.id, bytes: 4 },
      { type: 'result', id: big.id, result: 100 },
    ]);
  });

  it('stops when told: aborts the running job, sends nothing more, closes the link and exits 0', async () => {
    let signal: AbortSignal | undefined;
    let report: ((bytes: number) => void) | undefined;
    const { parent, exits } = start(
      {
        hang: async (_data: unknown, context) => {
          signal = context.signal;
          report = (bytes) => context.progress(bytes);
          await sleep(30);
          return 'late';
        },
      },
      0,
    );
    parent.post(jobMessage('hang'));
    parent.post(jobMessage('hang'));
    await until(() => signal !== undefined);
    parent.post({ type: 'stop' });
    parent.post({ type: 'stop' });
    report!(5);
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toMatchObject({ errorName: 'Cancelled' });
    expect(exits).toEqual([0]);
    expect(parent.closed).toBe(1);
    await sleep(50);
    expect(parent.replies()).toEqual([]);
  });

  it('ends with exit code 1 when the parent goes away, even while a job fails', async () => {
    let failNow: (() => void) | undefined;
    const { parent, exits } = start({
      fail: () =>
        new Promise((_resolve, reject) => {
          failNow = () => reject(new Error('late failure'));
        }),
    });
    parent.post(jobMessage('fail'));
    await until(() => failNow !== undefined);
    parent.disconnect();
    failNow!();
    await sleep(5);
    expect(exits).toEqual([1]);
    expect(parent.replies()).toEqual([]);
  });
});
