import type { Config } from '../../config/config.js';
import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import type { PgClient } from '../../postgres/client.js';
import { connectPg } from './pg-connect.js';

/** A configured cluster (pg<index>) and a session on it. */
export interface PgSession {
  readonly index: number;
  readonly client: PgClient;
}

export interface PgClusters {
  /** The cluster not in recovery, if one answered. */
  readonly primary: PgSession | undefined;
  /** The first cluster in recovery that answered (kept only when asked for). */
  readonly standby: PgSession | undefined;
}

/**
 * Connects to every configured cluster (pg1 ... pgN) and tells primary from standby, as
 * pgBackRest does: a configuration may list a primary and its standbys in any order, and after a
 * failover pg1 is no longer the primary. A cluster that does not answer is a warning while others
 * are left to ask; with one cluster configured its connection error is the error, which says best
 * what to fix. Two primaries are an error: the backup would not know which cluster it is of.
 */
export async function findPgClusters(config: Config, options: { readonly keepStandby: boolean }): Promise<PgClusters> {
  const indexes = config.indexes('pg');
  let primary: PgSession | undefined;
  let standby: PgSession | undefined;
  try {
    for (const index of indexes) {
      let client: PgClient;
      let inRecovery: boolean;
      try {
        client = await connectPg(config, index);
      } catch (error) {
        if (indexes.length === 1) throw error;
        const failure = toPgkeepError(error);
        log.warn(`unable to check pg${index}: [${failure.errorName}] ${failure.message}`);
        continue;
      }
      try {
        inRecovery = await client.isInRecovery();
        /* v8 ignore next 4 -- a query on a session just opened fails only if the server goes down in between */
      } catch (error) {
        await client.close();
        throw error;
      }
      if (!inRecovery) {
        if (primary !== undefined) {
          await client.close();
          throw new PgkeepError('DbConnect', `more than one primary cluster found: pg${primary.index} and pg${index}`, {
            hint: 'each pgN of a stanza must be the same cluster: the primary or one of its standbys',
          });
        }
        primary = { index, client };
      } else if (options.keepStandby && standby === undefined) standby = { index, client };
      else await client.close();
    }
  } catch (error) {
    await primary?.client.close();
    await standby?.client.close();
    throw error;
  }
  return { primary, standby };
}

/** The primary among the configured clusters; none is an error (every cluster in recovery, or none answered). */
export async function findPrimary(config: Config): Promise<PgSession> {
  const { primary } = await findPgClusters(config, { keepStandby: false });
  if (primary !== undefined) return primary;
  const names = config
    .indexes('pg')
    .map((index) => `pg${index}`)
    .join(', ');
  throw new PgkeepError('DbConnect', `unable to find primary cluster - cannot proceed`, {
    hint: `are all available clusters in recovery? pgkeep works from the primary: add it to the stanza as a pgN (configured: ${names})`,
  });
}
