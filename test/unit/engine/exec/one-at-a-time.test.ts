import { describe, expect, it } from 'vitest';

import { oneAtATime } from '../../../../engine/exec/one-at-a-time.js';

describe('oneAtATime', () => {
  it('runs one call at a time, in order, and goes on after a failure', async () => {
    const one = oneAtATime();
    const events: string[] = [];
    let running = 0;
    const work =
      (name: string, fail = false) =>
      async () => {
        running++;
        expect(running).toBe(1);
        events.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`end ${name}`);
        running--;
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([one(work('a')), one(work('b', true)), one(work('c'))]);
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message))).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
