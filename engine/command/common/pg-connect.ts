import { userInfo } from 'node:os';

import type { Config } from '../../config/config.js';
import { PgClient } from '../../postgres/client.js';

/** Connects to the cluster of pg<index> as the configuration describes it. */
export function connectPg(config: Config, index = 1, timeoutMs?: number): Promise<PgClient> {
  return PgClient.connect({
    socketPath: config.stringOr('pg-socket-path', index),
    port: config.number('pg-port', index),
    // libpq's default is the effective OS user, not $USER (which sudo or su may leave as another user)
    user: config.stringOr('pg-user', index) ?? userInfo().username,
    database: config.string('pg-database', index),
    timeoutMs: timeoutMs ?? Math.round((config.numberOr('db-timeout') ?? 1800) * 1000),
    configName: `pg${index}`,
  });
}
