import { log } from '../../log/logger.js';
import { removeStopFile } from '../../repo/lock/lock.js';
import type { CommandContext } from '../command.js';

/** `pgkeep start`: allows commands to change the repository again (removes the stop file). */
export async function run({ config }: CommandContext): Promise<number> {
  const stanza = config.stringOr('stanza');
  const what = stanza === undefined ? 'all stanzas' : `stanza '${stanza}'`;
  if (await removeStopFile(config.string('lock-path'), stanza)) log.info(`commands may change the repository of ${what} again`);
  else log.warn(`stop file does not exist for ${what}`);
  return 0;
}
