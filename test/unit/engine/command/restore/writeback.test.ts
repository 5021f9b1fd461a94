import { describe, expect, it } from 'vitest';

import { Writeback } from '../../../../../engine/command/restore/writeback.js';

/** A file whose syncs the test finishes when it wants, counting them. */
function scriptedSync() {
  const finishers: ((failed: boolean) => void)[] = [];
  const file = {
    datasync: () =>
      new Promise<void>((resolve, reject) => finishers.push((failed) => (failed ? reject(new Error('EIO')) : resolve()))),
  };
  return { file, finishers, finish: async (failed = false) => finishers.at(-1)!(failed) };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Writeback', () => {
  it('syncs once per step of growth, one sync at a time', async () => {
    const { file, finishers, finish } = scriptedSync();
    const writeback = new Writeback(file, 100);
    writeback.grew(99);
    expect(finishers).toHaveLength(0);
    writeback.grew(100);
    expect(finishers).toHaveLength(1);
    writeback.grew(250); // the first is still running
    expect(finishers).toHaveLength(1);
    await finish();
    await turn();
    writeback.grew(199); // less than a step past the last sync, at 100
    expect(finishers).toHaveLength(1);
    writeback.grew(200);
    expect(finishers).toHaveLength(2);
    // A failed sync is left to the caller's final one: the next step syncs again.
    await finish(true);
    await turn();
    writeback.grew(300);
    expect(finishers).toHaveLength(3);
  });

  it('stops starting syncs, and waits for the one running', async () => {
    const { file, finishers, finish } = scriptedSync();
    const writeback = new Writeback(file, 10);
    writeback.grew(10);
    let stopped = false;
    const stopping = writeback.stop().then(() => (stopped = true));
    await turn();
    expect(stopped).toBe(false);
    await finish();
    await stopping;
    writeback.grew(1000);
    expect(finishers).toHaveLength(1);
    await writeback.stop(); // none running
  });
});
