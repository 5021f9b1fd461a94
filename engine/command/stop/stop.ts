import { log } from '../../log/logger.js';
import { createStopFile, readLock } from '../../repo/lock/lock.js';
import type { CommandContext } from '../command.js';

/**
 * `pgkeep stop`: stops commands from changing the repository of a stanza (or of all stanzas)
 * until `pgkeep start`. With --force, a backup or archiving process that holds a lock now is
 * asked to end (SIGTERM).
 */
export async function run({ config }: CommandContext): Promise<number> {
  const stanza = config.stringOr('stanza');
  const lockPath = config.string('lock-path');
  const what = stanza === undefined ? 'all stanzas' : `stanza '${stanza}'`;
  if (await createStopFile(lockPath, stanza)) log.info(`commands may no longer change the repository of ${what}`);
  else log.warn(`stop file already exists for ${what}`);

  if (config.boolean('force') && stanza !== undefined) {
    for (const type of ['backup', 'archive'] as const) {
      const lock = await readLock(lockPath, stanza, type);
      if (lock.status === 'held' && lock.content !== undefined) {
        process.kill(lock.content.pid, 'SIGTERM');
        log.info(`sent SIGTERM to process ${lock.content.pid}, which holds the ${type} lock of ${what}`);
      }
    }
  }
  return 0;
}
