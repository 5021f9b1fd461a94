import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { findOsUser } from '../../../../harness/os-user.js';

import { compileForChild } from './child-module.js';

interface Outcome {
  readonly op: string;
  readonly ok: boolean;
  readonly errorName?: string;
  readonly message?: string;
  readonly hint?: string;
}

/** Runs storage operations in a child process as another user and returns what each did. */
const script = `
import { PosixStorage } from './engine/storage/posix/posix-storage.js';
const dir = process.argv[2];
const storage = new PosixStorage({ basePath: dir });
const operations = {
  writeLocked: () => storage.write('locked/f', Buffer.from('x')),
  readSecret: () => storage.readBuffer('secret'),
  streamSecret: () => storage.read('secret'),
  listLocked: () => storage.list('locked'),
  infoInLocked: () => storage.info('locked/anything'),
  createInLocked: () => storage.pathCreate('locked/sub'),
  giveToRoot: () => storage.write('open/given', Buffer.from('x'), { user: 'root' }),
  keepOwnOwner: () => storage.write('open/own', Buffer.from('x'), { user: process.argv[3], group: process.argv[4] }),
};
const outcomes = [];
for (const [op, run] of Object.entries(operations)) {
  try {
    await run();
    outcomes.push({ op, ok: true });
  } catch (error) {
    outcomes.push({ op, ok: false, errorName: error.errorName, message: error.message, hint: error.hint });
  }
}
process.stdout.write(JSON.stringify(outcomes));
`;

const isRoot = process.geteuid?.() === 0;
const cleanup: string[] = [];
afterAll(() => {
  for (const path of cleanup) rmSync(path, { recursive: true, force: true });
});

describe('PosixStorage permission errors', () => {
  // Root is never denied by a mode, so the denial is seen from a child process that runs as an
  // unprivileged user. Only root can start one; as any other user the case is skipped.
  const userName = findOsUser('postgres') === undefined ? 'nobody' : 'postgres';
  const user = findOsUser(userName);

  it.skipIf(!isRoot || user === undefined)(
    'maps EACCES to Access naming the path and the user, and refuses to give files away',
    () => {
      const outDir = mkdtempSync(join(tmpdir(), 'pgkeep-child-'));
      const dir = mkdtempSync(join(tmpdir(), 'pgkeep-denied-'));
      cleanup.push(outDir, dir);
      compileForChild('engine/storage/posix/posix-storage.ts', outDir);
      writeFileSync(join(outDir, 'child.mjs'), script);
      spawnSync('chmod', ['-R', 'a+rX', outDir]);
      chmodSync(dir, 0o755);
      mkdirSync(join(dir, 'locked'), { mode: 0o000 });
      chmodSync(join(dir, 'locked'), 0o000);
      writeFileSync(join(dir, 'secret'), 'x', { mode: 0o000 });
      chmodSync(join(dir, 'secret'), 0o000);
      mkdirSync(join(dir, 'open'));
      chmodSync(join(dir, 'open'), 0o777);

      const child = spawnSync(process.execPath, [join(outDir, 'child.mjs'), dir, userName, user!.group], {
        uid: user!.uid,
        gid: user!.gid,
        cwd: outDir,
        encoding: 'utf8',
      });
      expect(child.stderr).toBe('');
      const outcomes = new Map((JSON.parse(child.stdout) as Outcome[]).map((outcome) => [outcome.op, outcome]));
      const hintFor = (path: string) =>
        `does '${userName}:${user!.group}' running pgkeep have permission on '${path}' and search (x) permission on the directories above it?`;

      expect(outcomes.get('writeLocked')).toEqual({
        op: 'writeLocked',
        ok: false,
        errorName: 'Access',
        message: `unable to open '${join(dir, 'locked/f')}' for write: permission denied`,
        hint: hintFor(join(dir, 'locked/f')),
      });
      expect(outcomes.get('readSecret')).toMatchObject({
        errorName: 'Access',
        message: `unable to read '${join(dir, 'secret')}': permission denied`,
      });
      expect(outcomes.get('streamSecret')).toMatchObject({
        errorName: 'Access',
        message: `unable to open '${join(dir, 'secret')}' for read: permission denied`,
        hint: hintFor(join(dir, 'secret')),
      });
      expect(outcomes.get('listLocked')).toMatchObject({
        errorName: 'Access',
        message: `unable to list directory '${join(dir, 'locked')}': permission denied`,
      });
      expect(outcomes.get('infoInLocked')).toMatchObject({ errorName: 'Access' });
      expect(outcomes.get('createInLocked')).toMatchObject({
        errorName: 'Access',
        message: `unable to create directory '${join(dir, 'locked/sub')}': permission denied`,
      });
      expect(outcomes.get('giveToRoot')).toMatchObject({
        errorName: 'FileOwner',
        message: `unable to set owner of '${join(dir, 'open/given')}' to 'root:': only root can change the owner of a file (running as uid ${user!.uid})`,
        hint: 'run as root, or as the user the file is to belong to',
      });
      expect(outcomes.get('keepOwnOwner')).toEqual({ op: 'keepOwnOwner', ok: true });
      expect(statSync(join(dir, 'open/own')).uid).toBe(user!.uid);
      // Nothing was left behind by the failed writes.
      expect(
        spawnSync('ls', ['-A', join(dir, 'open')], { encoding: 'utf8' })
          .stdout.trim()
          .split('\n'),
      ).toEqual(['own']);
    },
  );
});
