import type { Config } from '../../config/config.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import { readPgControl } from '../../postgres/pg-control.js';
import { connectPg } from './pg-connect.js';

/** Which cluster a stanza belongs to: what stanza-create records and every command checks. */
export interface PgIdentity {
  readonly systemId: bigint;
  readonly version: string;
  readonly catalogVersion: number;
  readonly controlVersion: number;
}

/**
 * The identity of pg1: from pg_control in its data directory. Online, the database is also asked
 * which data directory it runs from, so a stanza is never created for a pg1-path that is not the
 * running cluster's.
 */
export async function pgIdentity(config: Config, online: boolean): Promise<PgIdentity> {
  const pgPath = config.string('pg-path', 1);
  if (online) {
    const client = await connectPg(config, 1);
    try {
      const dataDirectory = await client.dataDirectory();
      if (dataDirectory !== pgPath) {
        throw new PgkeepError(
          'DbMismatch',
          `pg1-path '${pgPath}' is not the data directory of the database on port ${config.number('pg-port', 1)}, which runs from '${dataDirectory}'`,
          {
            hint: "set pg1-path to the running cluster's data directory, or pg1-port/pg1-socket-path to the cluster of pg1-path",
          },
        );
      }
    } finally {
      await client.close();
    }
  }
  const control = await readPgControl(pgPath);
  return {
    systemId: control.systemId,
    version: control.version.version,
    catalogVersion: control.catalogVersion,
    controlVersion: control.controlVersion,
  };
}
