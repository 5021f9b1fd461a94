import type { PgCluster } from './pg-cluster.js';

/**
 * What "the same data" means for a pgbench cluster: row counts and a checksum of the contents of
 * every pgbench table, plus any marker table a test adds. Two clusters with equal states answer
 * every query the same way.
 */
export async function pgbenchState(cluster: PgCluster): Promise<Record<string, string>> {
  const queries: Record<string, string> = {
    accounts: "SELECT count(*) || ':' || md5(string_agg(aid || '=' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts",
    branches: "SELECT count(*) || ':' || md5(string_agg(bid || '=' || bbalance, ',' ORDER BY bid)) FROM pgbench_branches",
    tellers: "SELECT count(*) || ':' || md5(string_agg(tid || '=' || tbalance, ',' ORDER BY tid)) FROM pgbench_tellers",
    history: "SELECT count(*) || ':' || coalesce(sum(delta), 0) FROM pgbench_history",
  };
  const state: Record<string, string> = {};
  for (const [name, sql] of Object.entries(queries)) state[name] = String(await cluster.value(sql));
  return state;
}
