import { basename } from 'node:path';

import type { CompressType } from '../../filter/compress-type.js';
import { isWritableCompressType } from '../../filter/compress-type.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { readPgControl } from '../../postgres/pg-control.js';
import { checkNotStopped } from '../../repo/lock/lock.js';
import type { CommandContext } from '../command.js';
import { stanzaRepo } from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';
import { walPathParam } from '../common/wal-path.js';
import { pushWalFile } from './push-file.js';

/** `pgkeep archive-push <wal path>`: PostgreSQL's archive_command. */
export async function run({ config }: CommandContext): Promise<number> {
  const walPath = walPathParam(config, 0, 'WAL file to push');
  const stanza = config.string('stanza');
  await checkNotStopped(config.string('lock-path'), stanza);

  const compressType = config.string('compress-type') as CompressType;
  if (!isWritableCompressType(compressType))
    throw new PgkeepError('FeatureNotSupported', `compress-type=${compressType} is not supported`);
  const pgPath = config.stringOr('pg-path', 1);
  const control = pgPath === undefined ? undefined : await readPgControl(pgPath);

  const failures: PgkeepError[] = [];
  for (const index of repoIndexes(config)) {
    try {
      const outcome = await pushWalFile(walPath, stanzaRepo(config, index, stanza), {
        compressType,
        compressLevel: config.numberOr('compress-level'),
        headerCheck: config.boolean('archive-header-check'),
        pg: control === undefined ? undefined : { systemId: control.systemId, version: control.version.version },
      });
      if (outcome === 'pushed') log.info(`pushed WAL file '${basename(walPath)}' to the archive on repo${index}`);
    } catch (error) {
      // Every repository gets the file it can take; the command still fails so PostgreSQL retries.
      if (!(error instanceof PgkeepError) || repoIndexes(config).length === 1) throw error;
      log.error(`repo${index}: ${error.text}`, error.code);
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0]!;
  return 0;
}
