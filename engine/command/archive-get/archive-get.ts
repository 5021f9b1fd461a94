import { EXIT_NOT_FOUND } from '../../error/error-table.js';
import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { readPgControl } from '../../postgres/pg-control.js';
import { isSegmentName } from '../../postgres/wal.js';
import type { CommandContext } from '../command.js';
import { defaultPgIndex } from '../common/pg-index.js';
import { stanzaRepo } from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';
import { walPathParam } from '../common/wal-path.js';
import { copyWalFile, findWalFile } from './get-file.js';

/**
 * `pgkeep archive-get <wal name> <destination>`: PostgreSQL's restore_command. Exit 0 with the
 * file in place, 1 when no repository has it (PostgreSQL then ends recovery, or waits on a
 * standby), another code on errors. With archive-async, segments come from the prefetch queue
 * (get-async.ts).
 */
export async function run({ config }: CommandContext): Promise<number> {
  const name = config.params[0];
  if (name === undefined)
    throw new PgkeepError('ParamRequired', 'WAL file name is required', {
      hint: `use restore_command = 'pgkeep --stanza=<name> archive-get %f "%p"'`,
    });
  const destination = walPathParam(config, 1, 'destination of the WAL file');
  // Asynchronous get prefetches segments only; history files are always fetched here.
  if (config.boolean('archive-async') && isSegmentName(name))
    return await (await import('./get-async.js')).getAsync(config, name, destination);
  const control = await readPgControl(config.string('pg-path', defaultPgIndex(config)));
  const pg = { systemId: control.systemId, version: control.version.version };

  let lastError: PgkeepError | undefined;
  for (const index of repoIndexes(config)) {
    try {
      const found = await findWalFile(name, stanzaRepo(config, index), pg);
      if (found === undefined) continue;
      await copyWalFile(found, destination);
      log.info(`found ${name} in the repo${index}: ${found.archiveId} archive`);
      return 0;
    } catch (error) {
      // Another repository may still have a good copy.
      lastError = toPgkeepError(error);
      log.warn(`repo${index}: ${lastError.text}`);
    }
  }
  if (lastError !== undefined) throw lastError;
  log.info(`unable to find ${name} in the archive`);
  return EXIT_NOT_FOUND;
}
