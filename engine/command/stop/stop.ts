import { join } from 'node:path';

import { log } from '../../log/logger.js';
import { createStopFile, readLock, type LockFileType } from '../../repo/lock/lock.js';
import { PosixStorage } from '../../storage/posix/posix-storage.js';
import type { CommandContext } from '../command.js';

/**
 * `pgkeep stop`: stops commands from changing the repository of a stanza (or of all stanzas)
 * until `pgkeep start`. With --force, the processes that hold a lock of the stanza (of any stanza
 * without --stanza) are asked to end (SIGTERM). The messages are pgBackRest 2.45's. Unlike
 * pgBackRest, the lock files are left to their processes, which remove them as they end (a lock
 * file whose process is gone is taken over anyway).
 */
export async function run({ config }: CommandContext): Promise<number> {
  const stanza = config.stringOr('stanza');
  const lockPath = config.string('lock-path');
  if (!(await createStopFile(lockPath, stanza))) {
    log.warn(`stop file already exists for ${stanza === undefined ? 'all stanzas' : `stanza ${stanza}`}`);
    return 0;
  }
  if (!config.boolean('force')) return 0;
  for (const { file, stanza: owner, type } of await lockFiles(lockPath, stanza)) {
    const lock = await readLock(lockPath, owner, type);
    // Ended meanwhile, or gone without removing its file (kill -9): nothing to signal.
    if (lock.status === 'missing' || lock.status === 'stale') continue;
    if (lock.status !== 'held' || lock.content === undefined) {
      log.warn(`unable to read lock file ${join(lockPath, file)}`);
      continue;
    }
    try {
      process.kill(lock.content.pid, 'SIGTERM');
      log.info(`sent term signal to process ${lock.content.pid}`);
    } catch {
      log.warn(`unable to send term signal to process ${lock.content.pid}`);
    }
  }
  return 0;
}

/** The lock files (`<stanza>-<type>.lock`) of the stanza, or of every stanza, in name order. */
async function lockFiles(
  lockPath: string,
  stanza: string | undefined,
): Promise<{ file: string; stanza: string; type: LockFileType }[]> {
  const pattern = /^(.+)-(archive|backup)\.lock$/;
  const found = await new PosixStorage({ basePath: lockPath }).list('', { filter: pattern });
  return found
    .map(({ name }) => ({ file: name, match: pattern.exec(name)! }))
    .filter(({ match }) => stanza === undefined || match[1] === stanza)
    .map(({ file, match }) => ({ file, stanza: match[1]!, type: match[2] as LockFileType }));
}
