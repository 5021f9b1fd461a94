import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { readSyncAtMost } from '../../../../../engine/storage/posix/read-sync.js';

const dir = mkdtempSync(join(tmpdir(), 'pgkeep-read-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readSyncAtMost', () => {
  const path = join(dir, 'file');
  writeFileSync(path, 'abcdefghij');

  it('reads from an offset, at most the limit', () => {
    expect(readSyncAtMost(path, 0, 100).toString()).toBe('abcdefghij');
    expect(readSyncAtMost(path, 3, 4).toString()).toBe('defg');
    expect(readSyncAtMost(path, 20, 4).length).toBe(0);
  });

  it('holds about the size of the file, not the limit', () => {
    const read = readSyncAtMost(path, 0, 1024 * 1024 + 1);
    expect(read.buffer.byteLength).toBeLessThan(64 * 1024);
  });

  it('reads on past the size the file had when opened (a file growing while it is read), to the limit', () => {
    // /proc files say size 0 and hold more: the same as a file that grew between the fstat and the read
    const status = readSyncAtMost('/proc/self/status', 0, 1024 * 1024);
    expect(status.toString()).toMatch(/^Name:.*\n[\s\S]*\nPid:\s+\d+\n[\s\S]*\n$/);
    expect(readSyncAtMost('/proc/self/status', 0, 3).toString()).toBe('Nam');
  });

  it('names the file when it is missing or cannot be read', () => {
    expect(() => readSyncAtMost(join(dir, 'nope'), 0, 10)).toThrow(expect.objectContaining({ errorName: 'FileMissing' }));
    expect(() => readSyncAtMost(dir, 0, 10)).toThrow(
      expect.objectContaining({ errorName: 'FileRead', message: expect.stringContaining(dir) }),
    );
  });
});
