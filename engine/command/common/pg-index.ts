import type { Config } from '../../config/config.js';

/**
 * The pgN a command works on when it needs none in particular: the lowest configured (pg1, or
 * pg2 when only pg2 is set), as pgBackRest's default pg index. Its own module: archive-push and
 * archive-get need it without loading the PostgreSQL client.
 */
export function defaultPgIndex(config: Config): number {
  return config.indexes('pg')[0]!;
}
