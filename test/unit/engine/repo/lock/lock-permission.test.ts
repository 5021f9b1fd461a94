import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { findOsUser } from '../../../../harness/os-user.js';

import { compileForChild } from '../../storage/posix/child-module.js';

const script = `
import { acquireLock } from './engine/repo/lock/lock.js';
try {
  await acquireLock({ lockPath: process.argv[2], stanza: 'main', type: 'backup' });
  process.stdout.write(JSON.stringify({ ok: true }));
} catch (error) {
  process.stdout.write(JSON.stringify({ errorName: error.errorName, message: error.message, hint: error.hint }));
}
`;

const isRoot = process.geteuid?.() === 0;
const cleanup: string[] = [];
afterAll(() => {
  for (const path of cleanup) rmSync(path, { recursive: true, force: true });
});

describe('acquireLock as a user who cannot read the lock file', () => {
  // Another user's lock file (pgbackrest's are 0640) cannot be judged: the error must say so.
  // Root reads everything, so this runs in a child process as an unprivileged user, which only
  // root can start: as any other user the case is skipped.
  const userName = findOsUser('postgres') === undefined ? 'nobody' : 'postgres';
  const user = findOsUser(userName);

  it.skipIf(!isRoot || user === undefined)('fails with LockAcquire naming the file, the reason and the user', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'pgkeep-child-'));
    const dir = mkdtempSync(join(tmpdir(), 'pgkeep-lock-denied-'));
    cleanup.push(outDir, dir);
    compileForChild('engine/repo/lock/lock.ts', outDir);
    writeFileSync(join(outDir, 'child.mjs'), script);
    spawnSync('chmod', ['-R', 'a+rX', outDir]);
    chmodSync(dir, 0o755);
    const lockPath = join(dir, 'lock');
    mkdirSync(lockPath);
    chmodSync(lockPath, 0o777);
    writeFileSync(join(lockPath, 'main-backup.lock'), `{"execId":"1-00000000","pid":1}`, { mode: 0o600 });

    const child = spawnSync(process.execPath, [join(outDir, 'child.mjs'), lockPath], {
      uid: user!.uid,
      gid: user!.gid,
      cwd: outDir,
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    const path = join(lockPath, 'main-backup.lock');
    expect(JSON.parse(child.stdout)).toEqual({
      errorName: 'LockAcquire',
      message: `unable to acquire lock on file '${path}': permission denied`,
      hint: `does '${userName}:${user!.group}' running pgkeep have permission on '${path}' and search (x) permission on the directories above it?`,
    });
  });
});
