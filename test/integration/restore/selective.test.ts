import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { PgCluster } from '../../harness/pg-cluster.js';
import { TestStanza } from '../../harness/stanza.js';
import { emptyCluster, planOf, snapshot, startRestored, switchAndArchive, tableDigest } from './helpers.js';

/**
 * Selective restore (--db-include, --db-exclude): the restored cluster recovers, the databases
 * restored answer as the source did, the others cannot be used but can be dropped; the files are
 * exactly those pgbackrest restores (the zeroed ones as sparse zeros, PG_VERSION kept); mistakes
 * exit as pgbackrest's and leave the target empty.
 */
describe('selective restore, checked against pgbackrest 2.45', () => {
  let stanza: TestStanza;
  let oids: Record<'app1' | 'app2', number>;
  let expected: Record<'t1' | 't2', { rows: number; md5: string }>;
  let pgkeepLabel: string;
  let pgbackrestLabel: string;
  const clusters: PgCluster[] = [];
  const newCluster = async () => {
    const cluster = await emptyCluster();
    clusters.push(cluster);
    return cluster;
  };
  const restoreArgs = (cluster: PgCluster, ...args: string[]) => [
    'restore',
    `--pg1-path=${cluster.dataDir}`,
    `--tablespace-map=ts1=${join(cluster.root, 'ts')}`,
    '--type=immediate',
    '--target-action=promote',
    ...args,
  ];
  /** Whether each file of a database directory is all zeros, with its size (the tablespace's too). */
  const zeroedFiles = (cluster: PgCluster, oid: number) => {
    const dirs = [join(cluster.dataDir, 'base', String(oid)), join(cluster.root, 'ts', 'PG_15_202209061', String(oid))];
    const files = dirs.flatMap((dir) => readdirSync(dir).map((name) => join(dir, name)));
    return files.map((path) => ({ path, size: statSync(path).size, blocks: statSync(path).blocks }));
  };

  beforeAll(async () => {
    stanza = await TestStanza.create();
    await stanza.pgkeep(['stanza-create']);
    await stanza.cluster.createTablespace('ts1');
    for (const name of ['app1', 'app2']) await stanza.cluster.query(`CREATE DATABASE ${name}`);
    // Each database has a table in base/ and one in the tablespace
    for (const name of ['app1', 'app2']) {
      await stanza.cluster.query(
        'CREATE TABLE t1 AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g',
        [],
        name,
      );
      await stanza.cluster.query(
        'CREATE TABLE t2 TABLESPACE ts1 AS SELECT g AS id, md5((g * 7)::text) AS v FROM generate_series(1, 5000) g',
        [],
        name,
      );
    }
    await stanza.cluster.query('CHECKPOINT');
    const rows = await stanza.cluster.query<{ datname: 'app1' | 'app2'; oid: number }>(
      "SELECT datname, oid::int FROM pg_database WHERE datname LIKE 'app%'",
    );
    oids = Object.fromEntries(rows.map((row) => [row.datname, row.oid])) as typeof oids;
    expected = {
      t1: await tableDigest(stanza.cluster, 't1', 'id', 'app1'),
      t2: await tableDigest(stanza.cluster, 't2', 'id', 'app1'),
    };
    await stanza.pgkeep(['--type=full', 'backup']);
    await stanza.pgbackrest(['--type=full', 'backup']);
    [pgkeepLabel, pgbackrestLabel] = await labels();
    await switchAndArchive(stanza);
  });
  afterAll(async () => {
    for (const cluster of clusters) await cluster.destroy();
    await stanza?.destroy();
  });

  it("pgkeep --db-include restores app1 alone: app2's files are sparse zeros, exactly as pgbackrest restores them", async () => {
    const ours = await newCluster();
    const theirs = await newCluster();
    const set = `--set=${pgkeepLabel}`;
    const plan = planOf(await stanza.pgkeep([...restoreArgs(ours, '--db-include=app1', set), '--dry-run', '--output=json']));
    expect(plan.selective!.databases.filter((db) => !db.system)).toEqual([
      { id: oids.app1, name: 'app1', system: false, zeroed: false },
      { id: oids.app2, name: 'app2', system: false, zeroed: true },
    ]);
    expect(plan.summary.files.zeroed).toBe(plan.files.filter((file) => file.zeroed).length);
    expect(plan.files.filter((file) => file.zeroed).every((file) => file.name.includes(`/${oids.app2}/`))).toBe(true);

    const output = await stanza.pgkeep([...restoreArgs(ours, '--db-include=app1', set), '--log-level-console=detail']);
    expect(output.stdout).toContain(`databases excluded (zeroed) from selective restore (${oids.app2})`);
    expect(output.stdout).toMatch(new RegExp(`restore zeroed file \\S+/base/${oids.app2}/\\d+ `));
    await stanza.pgbackrest(restoreArgs(theirs, '--db-include=app1', set));

    const files = (cluster: PgCluster, dir: string) =>
      new Map(
        [...snapshot(join(cluster.root, dir))]
          .filter(([name]) => name !== 'postgresql.auto.conf' && name !== 'recovery.signal')
          .map(([name, entry]) => [name, entry.replace(cluster.root, '<root>')]),
      );
    for (const dir of ['data', 'ts']) expect(files(ours, dir), dir).toEqual(files(theirs, dir));
    const app2 = zeroedFiles(ours, oids.app2).filter((file) => !file.path.endsWith('PG_VERSION'));
    expect(app2.length).toBeGreaterThan(10);
    expect(app2.filter((file) => file.size > 0).every((file) => file.blocks === 0)).toBe(true);

    await startRestored(ours);
    expect({ t1: await tableDigest(ours, 't1', 'id', 'app1'), t2: await tableDigest(ours, 't2', 'id', 'app1') }).toEqual(
      expected,
    );
    await expect(ours.query('SELECT count(*) FROM t1', [], 'app2')).rejects.toThrow();
    await ours.query('DROP DATABASE app2');
    expect(await ours.value("SELECT count(*)::int FROM pg_database WHERE datname LIKE 'app%'")).toBe(1);
  });

  it("pgkeep --db-exclude restores pgbackrest's backup without app2, which can then be dropped", async () => {
    const target = await newCluster();
    await stanza.pgkeep(restoreArgs(target, '--db-exclude=app2', `--set=${pgbackrestLabel}`));
    expect(zeroedFiles(target, oids.app1).every((file) => file.size === 0 || file.blocks > 0)).toBe(true);
    const app2 = zeroedFiles(target, oids.app2).filter((file) => !file.path.endsWith('PG_VERSION') && file.size > 0);
    expect(app2.length).toBeGreaterThan(10);
    expect(app2.every((file) => file.blocks === 0)).toBe(true);
    await startRestored(target);
    expect(Number(await target.value('SELECT count(*) FROM t1', [], 'app1'))).toBe(expected.t1.rows);
    await target.query('DROP DATABASE app2');
  });

  it('a database not in the backup, a system database to include, or one both included and excluded: refused as pgbackrest, target untouched', async () => {
    const target = await newCluster();
    const expectRefused = async (code: number, args: string[], message: string) => {
      const output = await stanza.bothExit(code, restoreArgs(target, ...args));
      expect(output).toContain(message);
      expect(readdirSync(target.dataDir)).toEqual([]);
    };
    await expectRefused(80, ['--db-include=nope'], "database to include 'nope' does not exist");
    expect(await stanza.pgkeep(restoreArgs(target, '--db-exclude=nope'), { check: false })).toMatchObject({
      code: 80,
      stderr: expect.stringContaining(`HINT: the backup has these databases: `),
    });
    await expectRefused(81, ['--db-include=postgres'], 'system databases (template0, postgres, etc.) are included by default');
    await expectRefused(
      81,
      ['--db-include=app1', `--db-exclude=${oids.app1}`],
      "database to include 'app1' is in the exclude list",
    );
  });

  async function labels(): Promise<[string, string]> {
    const info = JSON.parse((await stanza.pgkeep(['--output=json', 'info'])).stdout) as [{ backup: { label: string }[] }];
    return info[0].backup.map((backup) => backup.label) as [string, string];
  }
});
