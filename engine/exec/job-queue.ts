import type { QueueKey } from './job.js';

export interface Queueable {
  readonly key: string;
  readonly size: number;
  readonly queue: QueueKey;
}

/**
 * pgBackRest's job order: one queue per key (tablespace, pg target), each largest job first (ties
 * by key, so the order is deterministic). Worker slot i starts on queue i mod queues and takes the
 * largest job there; when that queue is empty it scans the others, even slots forward and odd
 * slots backward as pgBackRest does, so several disks are read at once and the last jobs of a
 * queue are shared by the workers nearest to it.
 */
export class JobQueue<T extends Queueable> {
  /** Each queue sorted ascending so the largest job is popped from the end. */
  private readonly queues: T[][] = [];
  private readonly indexOf = new Map<QueueKey, number>();
  private count = 0;

  /** `queueOrder` fixes the queue numbering (pg_data first, then the tablespaces); other keys follow in order of appearance. */
  constructor(items: Iterable<T> = [], queueOrder: readonly QueueKey[] = []) {
    for (const key of queueOrder) this.queueIndex(key);
    for (const item of items) {
      this.queues[this.queueIndex(item.queue)]!.push(item);
      this.count++;
    }
    for (const queue of this.queues) queue.sort(ascending);
  }

  get length(): number {
    return this.count;
  }

  get queueCount(): number {
    return this.queues.length;
  }

  /**
   * The next job for worker slot `slot` (0-based), or undefined when every queue is empty or the
   * next job is larger than `maxSize` (it stays for another worker).
   */
  next(slot: number, maxSize = Infinity): T | undefined {
    const total = this.queues.length;
    if (this.count === 0) return undefined;
    const step = slot % 2 === 0 ? 1 : total - 1;
    let index = slot % total;
    for (;;) {
      const queue = this.queues[index]!;
      const item = queue.at(-1);
      if (item !== undefined) {
        if (item.size > maxSize) return undefined;
        queue.pop();
        this.count--;
        return item;
      }
      index = (index + step) % total;
    }
  }

  /** Puts a job back (a retry) in its place by size. */
  push(item: T): void {
    const queue = this.queues[this.queueIndex(item.queue)]!;
    let low = 0;
    let high = queue.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (ascending(queue[middle]!, item) < 0) low = middle + 1;
      else high = middle;
    }
    queue.splice(low, 0, item);
    this.count++;
  }

  private queueIndex(key: QueueKey): number {
    let index = this.indexOf.get(key);
    if (index === undefined) {
      index = this.queues.length;
      this.indexOf.set(key, index);
      this.queues.push([]);
    }
    return index;
  }
}

/** Smaller first; among equal sizes the greater key first, so popping from the end yields keys in ascending order. */
function ascending(a: Queueable, b: Queueable): number {
  if (a.size !== b.size) return a.size - b.size;
  return a.key < b.key ? 1 : a.key > b.key ? -1 : 0;
}
