import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { DirectoryWait } from '../../../../../engine/archive-async/wait.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-wait-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('DirectoryWait', () => {
  it('pauses a little longer each time and stops when the time is up', async () => {
    const wait = new DirectoryWait(120);
    const pauses: number[] = [];
    for (;;) {
      const started = Date.now();
      if (!(await wait.pause())) break;
      pauses.push(Date.now() - started);
    }
    wait.close();
    // 5, 5, 10, 15, 25, 40 ... ms, the last one cut to what was left of 120 ms
    expect(pauses.length).toBeGreaterThanOrEqual(2);
    expect(pauses.length).toBeLessThanOrEqual(8);
    expect(wait.remainingMs).toBe(0);
    expect(wait.elapsedMs).toBeGreaterThanOrEqual(120);
  });

  it('returns at once when a watched directory changes', async () => {
    const wait = new DirectoryWait(10_000, [dir]);
    for (let i = 0; i < 8; i++) await wait.pause(); // the pauses are now long (~100 ms and more)
    const started = Date.now();
    setTimeout(() => writeFileSync(join(dir, 'x.ok'), ''), 20);
    expect(await wait.pause()).toBe(true);
    expect(Date.now() - started).toBeLessThan(150);
    wait.close();
  });

  it('a change seen before the pause makes the pause return at once', async () => {
    const wait = new DirectoryWait(10_000, [dir]);
    for (let i = 0; i < 9; i++) await wait.pause(); // the next pause would be long (~170 ms)
    writeFileSync(join(dir, 'y.ok'), '');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    expect(await wait.pause()).toBe(true);
    expect(Date.now() - started).toBeLessThan(100);
    wait.close();
  });

  it('restart gives a new time limit and short pauses again', async () => {
    const wait = new DirectoryWait(30);
    while (await wait.pause());
    expect(await wait.pause()).toBe(false);
    wait.restart(1000);
    expect(wait.remainingMs).toBeGreaterThan(900);
    const started = Date.now();
    expect(await wait.pause()).toBe(true);
    expect(Date.now() - started).toBeLessThan(100); // a 5 ms pause again, not the long ones
    wait.close();
  });

  it('without a directory to watch (missing, removed later) the pauses alone do the job', async () => {
    const wait = new DirectoryWait(30, [join(dir, 'missing')]);
    while (await wait.pause());
    wait.close();
    const watched = join(dir, 'gone');
    mkdirSync(watched);
    const again = new DirectoryWait(50, [watched]);
    rmSync(watched, { recursive: true });
    while (await again.pause());
    again.close();
    expect(again.remainingMs).toBe(0);
  });

  it('close ends a pause in progress', async () => {
    const wait = new DirectoryWait(10_000, [dir]);
    for (let i = 0; i < 10; i++) await wait.pause();
    const started = Date.now();
    const pausing = wait.pause();
    setTimeout(() => wait.close(), 10);
    await pausing;
    expect(Date.now() - started).toBeLessThan(200);
  });
});
