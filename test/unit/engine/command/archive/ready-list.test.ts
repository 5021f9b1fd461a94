import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { dropWarning, queueExceeded, readyList, sizeFormat } from '../../../../../engine/command/archive-push/ready-list.js';
import { ArchiveWorld, SEGMENT_BYTES, SEGMENTS } from './world.js';

let world: ArchiveWorld;
beforeEach(() => {
  world = new ArchiveWorld();
});
afterEach(() => world.destroy());

describe('the WAL PostgreSQL wants archived', () => {
  it('is every .ready of archive_status, oldest first, nothing else', async () => {
    world.segment(SEGMENTS[2]);
    world.segment(SEGMENTS[0]);
    world.segment(SEGMENTS[1], SEGMENTS[1], { ready: false });
    world.ready('00000002.history');
    writeFileSync(join(world.statusDir, `${SEGMENTS[3]}.done`), '');
    writeFileSync(join(world.statusDir, '.ready'), '');
    expect(await readyList(world.walDir)).toEqual([SEGMENTS[0], SEGMENTS[2], '00000002.history']);
  });

  it('a missing archive_status is an error naming it', async () => {
    rmSync(world.statusDir, { recursive: true });
    await expect(readyList(world.walDir)).rejects.toMatchObject({ errorName: 'PathMissing' });
  });

  it('is over archive-push-queue-max when the waiting files take more bytes', async () => {
    for (const name of SEGMENTS.slice(0, 3)) world.segment(name);
    const files = await readyList(world.walDir);
    expect(await queueExceeded(world.walDir, files, 3 * SEGMENT_BYTES)).toBe(false);
    expect(await queueExceeded(world.walDir, files, 3 * SEGMENT_BYTES - 1)).toBe(true);
    // a file archived and removed meanwhile takes no space; another failure is an error
    rmSync(join(world.walDir, SEGMENTS[0]));
    expect(await queueExceeded(world.walDir, files, 2 * SEGMENT_BYTES)).toBe(false);
    await expect(queueExceeded(join(world.walDir, SEGMENTS[1]), ['x'], 1)).rejects.toMatchObject({ errorName: 'FileInfo' });
  });

  it('sizes and the drop warning read as pgBackRest writes them', () => {
    expect([0, 1023, 1024, 1536, 16 * 1024 ** 2, 1024 ** 3 + 1024 ** 3 / 2, 2 * 1024 ** 3].map(sizeFormat)).toEqual([
      '0B',
      '1023B',
      '1KB',
      '1.5KB',
      '16MB',
      '1.5GB',
      '2GB',
    ]);
    expect(dropWarning(SEGMENTS[0], 1024 ** 3)).toMatch(
      new RegExp(`^dropped WAL file '${SEGMENTS[0]}' because archive queue exceeded 1GB\\nHINT: this WAL is NOT in the archive`),
    );
  });
});
