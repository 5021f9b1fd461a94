import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { PgCluster } from '../../harness/pg-cluster.js';

describe('PgCluster', () => {
  const clusters: PgCluster[] = [];
  afterAll(async () => {
    for (const cluster of clusters) await cluster.destroy();
  });

  it('starts a real PostgreSQL 15 cluster with data checksums, runs SQL and stops it', async () => {
    const cluster = await PgCluster.create();
    clusters.push(cluster);
    await cluster.start();

    expect(await cluster.value('SHOW server_version_num')).toMatch(/^15\d{4}$/);
    expect(await cluster.value('SHOW data_checksums')).toBe('on');
    expect(await cluster.value('SELECT current_user')).toBe('postgres');
    await cluster.query('CREATE TABLE t (id int)');
    await cluster.query('INSERT INTO t SELECT generate_series(1, 100)');
    expect(await cluster.value('SELECT count(*)::int FROM t')).toBe(100);

    await cluster.stop();
    expect(cluster.isRunning).toBe(false);
    expect(existsSync(join(cluster.dataDir, 'postmaster.pid'))).toBe(false);
    await expect(cluster.query('SELECT 1')).rejects.toThrow();
  });

  it('creates tablespaces, runs pgbench and removes everything on destroy', async () => {
    const cluster = await PgCluster.create({ settings: { log_min_messages: 'warning' } });
    await cluster.start();
    const location = await cluster.createTablespace('ts1');
    await cluster.query('CREATE TABLE in_ts (id int) TABLESPACE ts1');
    expect(await cluster.value("SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'ts1'")).toBe(location);

    await cluster.pgbench(['-i', '-s', '1', '-q']);
    expect(await cluster.value('SELECT count(*)::int FROM pgbench_accounts')).toBe(100000);

    await cluster.destroy();
    expect(existsSync(cluster.root)).toBe(false);
  });

  it('gives a fresh cluster its own system identifier', async () => {
    const [a, b] = [await PgCluster.create(), await PgCluster.create({ fresh: true })];
    clusters.push(a, b);
    await a.start();
    await b.start();
    const id = (cluster: PgCluster) => cluster.value('SELECT system_identifier::text FROM pg_control_system()');
    expect(await id(a)).not.toBe(await id(b));
  });
});
