import { basename, dirname } from 'node:path';

import { log } from '../../log/logger.js';
import { checkNotStopped } from '../../repo/lock/lock.js';
import type { CommandContext } from '../command.js';
import { walPathParam } from '../common/wal-path.js';
import { checkWalName } from './push-file.js';
import { pushOptions, pushPlan, pushToRepos } from './push-repos.js';
import { dropWarning, queueExceeded, readyList } from './ready-list.js';

/**
 * `pgkeep archive-push <wal path>`: PostgreSQL's archive_command. With archive-async the file is
 * pushed by a background process (push-async.ts, push-queue.ts); otherwise here.
 */
export async function run({ config }: CommandContext): Promise<number> {
  const walPath = walPathParam(config, 0, 'WAL file to push');
  const stanza = config.string('stanza');
  await checkNotStopped(config.string('lock-path'), stanza);
  const name = basename(walPath);
  checkWalName(name);

  if (config.boolean('archive-async')) return await (await import('./push-async.js')).pushAsync(config, walPath);

  // Over archive-push-queue-max, the file is dropped (reported archived) rather than let pg_wal fill the disk.
  const queueMax = config.numberOr('archive-push-queue-max');
  if (queueMax !== undefined && (await queueExceeded(dirname(walPath), await readyList(dirname(walPath)), queueMax))) {
    log.warn(dropWarning(name, queueMax));
    return 0;
  }

  const plan = await pushPlan(config, await pushOptions(config));
  for (const warning of await pushToRepos(walPath, name, plan)) log.warn(warning);
  log.info(`pushed WAL file '${name}' to the archive`);
  return 0;
}
