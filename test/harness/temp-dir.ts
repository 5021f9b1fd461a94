import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { onExitRemove } from './cleanup.js';
import { osUser } from './os-user.js';

/**
 * Integration runs put every temporary directory under one base directory made by the global
 * setup (PGKEEP_TEST_TMP), which the global teardown removes after stopping any server left in
 * it: vitest ends its worker processes without running their exit handlers.
 */
export function testTmpBase(): string {
  return process.env.PGKEEP_TEST_TMP ?? tmpdir();
}

const forget = new Map<string, () => void>();

/**
 * A new directory owned by `owner` (default postgres) when running as root, so that PostgreSQL,
 * pgbackrest and the pgkeep CLI started as that user can work in it.
 */
export function tempDir(label: string, owner: string | null = 'postgres'): string {
  const path = mkdtempSync(join(testTmpBase(), `pgkeep-${label}-`));
  if (owner !== null && process.getuid?.() === 0) {
    const user = osUser(owner);
    chownSync(path, user.uid, user.gid);
  }
  forget.set(path, onExitRemove(path));
  return path;
}

export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
  forget.get(path)?.();
  forget.delete(path);
}
