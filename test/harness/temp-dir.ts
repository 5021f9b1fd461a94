import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { onExitRemove } from './cleanup.js';
import { osUser } from './os-user.js';

const forget = new Map<string, () => void>();

/**
 * A new directory under /tmp, owned by `owner` (default postgres) when running as root, so that
 * PostgreSQL, pgbackrest and the pgkeep CLI started as that user can work in it. It is removed
 * when the test process ends if the test did not remove it.
 */
export function tempDir(label: string, owner: string | null = 'postgres'): string {
  const path = mkdtempSync(join(tmpdir(), `pgkeep-${label}-`));
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
