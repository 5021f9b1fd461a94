import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { log } from '../../log/logger.js';
import { createStopFile, lockFilePath, readLock } from '../../repo/lock/lock.js';
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
  for (const file of await lockFiles(lockPath, stanza)) {
    const name = file.slice(0, -'.lock'.length);
    const type = name.endsWith('-backup') ? 'backup' : 'archive';
    const lock = await readLock(lockPath, name.slice(0, -(type.length + 1)), type);
    if (lock.status === 'missing') continue; // ended meanwhile
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

/** The lock files of the stanza, or of every stanza, in name order. */
async function lockFiles(lockPath: string, stanza: string | undefined): Promise<string[]> {
  if (stanza !== undefined) {
    const own = new Set(['archive', 'backup'].map((type) => lockFilePath(lockPath, stanza, type as 'archive' | 'backup')));
    return (await readdir(lockPath)).filter((name) => own.has(join(lockPath, name))).sort();
  }
  return (await readdir(lockPath)).filter((name) => /^.+-(archive|backup)\.lock$/.test(name)).sort();
}
