import type { Config } from '../../config/config.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import { readPgControl } from '../../postgres/pg-control.js';
import { findPrimary, type PgSession } from './pg-clusters.js';
import { defaultPgIndex } from './pg-index.js';

/** Which cluster a stanza belongs to: what stanza-create records and every command checks. */
export interface PgIdentity {
  readonly systemId: bigint;
  readonly version: string;
  readonly catalogVersion: number;
  readonly controlVersion: number;
}

/**
 * The identity of a configured cluster: from pg_control in its data directory. Given a session
 * (online), the database is first asked which data directory it runs from, so nothing is ever
 * done to a pgN-path that is not the running cluster's (a backup would copy one cluster's files
 * between another's backup start and stop).
 */
export async function pgIdentity(config: Config, cluster: PgSession | number): Promise<PgIdentity> {
  const index = typeof cluster === 'number' ? cluster : cluster.index;
  const pgPath = config.string('pg-path', index);
  if (typeof cluster !== 'number') await checkDataDirectory(config, cluster);
  const control = await readPgControl(pgPath);
  return {
    systemId: control.systemId,
    version: control.version.version,
    catalogVersion: control.catalogVersion,
    controlVersion: control.controlVersion,
  };
}

/** What stanza-create and stanza-upgrade record: online the primary's (found among pg1 ... pgN), offline the default pgN's. */
export async function primaryIdentity(config: Config, online: boolean): Promise<PgIdentity> {
  if (!online) return pgIdentity(config, defaultPgIndex(config));
  const primary = await findPrimary(config);
  try {
    return await pgIdentity(config, primary);
  } finally {
    await primary.client.close();
  }
}

/** The session's cluster runs from pgN-path, or DbMismatch. */
export async function checkDataDirectory(config: Config, { index, client }: PgSession): Promise<void> {
  const pgPath = config.string('pg-path', index);
  const dataDirectory = await client.dataDirectory();
  if (dataDirectory !== pgPath) {
    throw new PgkeepError(
      'DbMismatch',
      `pg${index}-path '${pgPath}' is not the data directory of the database on port ${config.number('pg-port', index)}, which runs from '${dataDirectory}'`,
      {
        hint: `set pg${index}-path to the running cluster's data directory, or pg${index}-port/pg${index}-socket-path to the cluster of pg${index}-path`,
      },
    );
  }
}
