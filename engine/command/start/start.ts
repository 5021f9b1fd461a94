import { log } from '../../log/logger.js';
import { removeStopFile } from '../../repo/lock/lock.js';
import type { CommandContext } from '../command.js';

/** `pgkeep start`: allows commands to change the repository again (removes the stop file). pgBackRest 2.45's messages. */
export async function run({ config }: CommandContext): Promise<number> {
  const stanza = config.stringOr('stanza');
  if (!(await removeStopFile(config.string('lock-path'), stanza)))
    log.warn(`stop file does not exist${stanza === undefined ? '' : ` for stanza ${stanza}`}`);
  return 0;
}
