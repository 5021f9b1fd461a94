import { describe, expect, it } from 'vitest';

import { JobQueue, type Queueable } from '../../../../engine/exec/job-queue.js';

const job = (key: string, size: number, queue: string | number = 0): Queueable => ({ key, size, queue });

function drain(queue: JobQueue<Queueable>, slot: number): string[] {
  const keys: string[] = [];
  for (let item = queue.next(slot); item !== undefined; item = queue.next(slot)) keys.push(item.key);
  return keys;
}

describe('JobQueue', () => {
  it('gives the largest job first, equal sizes in key order', () => {
    const queue = new JobQueue([job('b', 10), job('small', 1), job('big', 100), job('a', 10), job('empty', 0)]);
    expect(queue.length).toBe(5);
    expect(queue.queueCount).toBe(1);
    expect(drain(queue, 0)).toEqual(['big', 'a', 'b', 'small', 'empty']);
    expect(queue.length).toBe(0);
    expect(queue.next(0)).toBeUndefined();
  });

  it('leaves a job larger than maxSize for another worker', () => {
    const queue = new JobQueue([job('big', 100), job('small', 1)]);
    expect(queue.next(0, 99)).toBeUndefined();
    expect(queue.length).toBe(2);
    expect(queue.next(0, 100)?.key).toBe('big');
    expect(queue.next(0, 0)).toBeUndefined();
    expect(queue.next(0, 1)?.key).toBe('small');
  });

  it('keeps jobs of the same key and size both', () => {
    const queue = new JobQueue([job('same', 1), job('same', 1), job('other', 1)]);
    expect(drain(queue, 0)).toEqual(['other', 'same', 'same']);
  });

  it('is empty without jobs, whatever the slot', () => {
    const queue = new JobQueue<Queueable>();
    expect(queue.queueCount).toBe(0);
    expect(queue.next(3)).toBeUndefined();
  });

  it('starts slot i on queue i mod queues', () => {
    const queue = new JobQueue([job('a1', 5, 'a'), job('b1', 5, 'b'), job('c1', 5, 'c'), job('a2', 4, 'a')]);
    expect(queue.queueCount).toBe(3);
    expect(queue.next(0)!.key).toBe('a1');
    expect(queue.next(1)!.key).toBe('b1');
    expect(queue.next(2)!.key).toBe('c1');
    expect(queue.next(3)!.key).toBe('a2');
  });

  it('moves even slots forward and odd slots backward when their own queue is empty', () => {
    const jobs = () => [job('q1', 5, 1), job('q2', 5, 2), job('q3', 5, 3)];
    // four queues, 0 empty: slot 0 starts there and goes on to 1
    expect(new JobQueue(jobs(), [0, 1, 2, 3]).next(0)!.key).toBe('q1');
    // slot 1 starts on queue 1; with queue 1 empty it steps back to 0 (empty), then wraps to 3
    const backward = new JobQueue([job('q2', 5, 2), job('q3', 5, 3)], [0, 1, 2, 3]);
    expect(backward.next(1)!.key).toBe('q3');
    expect(backward.next(1)!.key).toBe('q2');
    // slot 2 starts on queue 2 and, going forward, wraps from 3 to 0 and 1
    const forward = new JobQueue([job('q1', 5, 1), job('q0', 5, 0)], [0, 1, 2, 3]);
    expect(forward.next(2)!.key).toBe('q0');
    expect(forward.next(2)!.key).toBe('q1');
  });

  it('numbers queues by queueOrder first, then by first appearance', () => {
    const queue = new JobQueue([job('x', 1, 'ts2'), job('y', 1, 'pg_data'), job('z', 1, 'ts1')], ['pg_data']);
    expect([queue.next(0)!.key, queue.next(1)!.key, queue.next(2)!.key]).toEqual(['y', 'x', 'z']);
  });

  it('puts a retried job back in its place by size, also into a queue it has not seen', () => {
    const queue = new JobQueue([job('big', 100), job('mid', 50), job('small', 1)]);
    const big = queue.next(0)!;
    const mid = queue.next(0)!;
    queue.push(mid);
    queue.push(job('tie', 50));
    queue.push(big);
    queue.push(job('other', 1000, 'elsewhere'));
    expect(queue.length).toBe(5);
    expect(queue.queueCount).toBe(2);
    expect(drain(queue, 0)).toEqual(['big', 'mid', 'tie', 'small', 'other']);
  });
});
