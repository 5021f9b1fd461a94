import { spawn } from 'node:child_process';
import type { FileHandle } from 'node:fs/promises';

import { findProgram } from '../../exec/find-program.js';
import { log } from '../../log/logger.js';

/** flock(1)'s exit code when the lock is held by another process (--conflict-exit-code). */
const CONFLICT = 75;

let program: string | undefined | null = null;

/** Where flock(1) is (util-linux, on every Debian); undefined where it is not installed. */
function flockProgram(): string | undefined {
  if (program === null) {
    program = findProgram('flock');
    if (program === undefined) log.debug('flock(1) is not installed: lock files are not flock()ed for pgbackrest');
  }
  return program;
}

/** For tests: this program as flock(1), undefined for none installed, null to look for it again. */
export function setFlockProgram(path: string | undefined | null): void {
  program = path;
}

/**
 * Takes pgBackRest's flock() on an open lock file, so that pgbackrest sees the lock as held: its
 * lockAcquire fails (is another pgBackRest process running?) and its info shows the running
 * backup. Node has no flock(); flock(1) is handed our descriptor as its fd 3, locks that open
 * file description and exits. The lock belongs to the open file description, not to flock(1): it
 * lasts until this process closes the file, or dies.
 *
 * 'held' when another process holds it (pgbackrest opened the new file and locked it first);
 * 'unavailable' when flock(1) is not installed or failed (pgkeep's own locking still holds: the
 * file is created exclusively and names this process).
 */
export function holdFlock(handle: FileHandle, path: string): Promise<'locked' | 'held' | 'unavailable'> {
  const flock = flockProgram();
  if (flock === undefined) return Promise.resolve('unavailable');
  return new Promise((resolve) => {
    const child = spawn(flock, ['--nonblock', '--exclusive', '--conflict-exit-code', String(CONFLICT), '3'], {
      stdio: ['ignore', 'ignore', 'pipe', handle.fd],
    });
    let said = '';
    child.stderr!.on('data', (chunk: Buffer) => (said += chunk.toString()));
    let settled = false;
    const settle = (outcome: 'locked' | 'held' | 'unavailable', why = '') => {
      if (settled) return;
      settled = true;
      if (outcome === 'unavailable') log.warn(`unable to flock() lock file '${path}' for pgbackrest: ${why}`);
      resolve(outcome);
    };
    child.once('error', (error) => settle('unavailable', error.message));
    child.once('close', (code, signal) => {
      if (code === 0) settle('locked');
      else if (code === CONFLICT) settle('held');
      else settle('unavailable', `flock exited with ${signal ?? code}${said.trim() === '' ? '' : `: ${said.trim()}`}`);
    });
  });
}
