import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { osUser } from '../../harness/os-user.js';
import { run } from '../../harness/run.js';
import type { PgCluster } from '../../harness/pg-cluster.js';
import { pgkeepBin, TestStanza } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';
import { emptyCluster, planOf, snapshot, startRestored, switchAndArchive, tableDigest } from './helpers.js';

type Digests = Record<string, { rows: number; md5: string }>;

const TABLES: Record<string, string> = {
  pgbench_accounts: 'aid',
  pgbench_branches: 'bid',
  pgbench_tellers: 'tid',
  pgbench_history: 't::text',
  tsdata: 'id',
};

async function digests(cluster: PgCluster): Promise<Digests> {
  const result: Digests = {};
  for (const [table, key] of Object.entries(TABLES)) result[table] = await tableDigest(cluster, table, key);
  return result;
}

/**
 * A source cluster with a tablespace and its pg_wal as a symbolic link out of the data directory,
 * backed up by the real pgbackrest 2.45 (full, diff, incr) with one compression type; pgbench runs
 * between the backups and after the last one.
 */
async function sourceStanza(compressType: string, options: { bundle?: boolean } = {}) {
  const stanza = await TestStanza.create({ archiver: 'pgbackrest', global: { 'compress-type': compressType }, start: false });
  const wal = join(stanza.cluster.root, 'wal-outside');
  renameSync(join(stanza.cluster.dataDir, 'pg_wal'), wal);
  symlinkSync(wal, join(stanza.cluster.dataDir, 'pg_wal'));
  const postgres = osUser('postgres');
  chownSync(join(stanza.cluster.dataDir, 'pg_wal'), postgres.uid, postgres.gid);
  await stanza.cluster.start();
  await stanza.pgbackrest(['stanza-create']);
  const tablespace = await stanza.cluster.createTablespace('ts1');
  await stanza.cluster.query(
    'CREATE TABLE tsdata TABLESPACE ts1 AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g',
  );
  await stanza.cluster.pgbench(['-i', '-s', '1', '-q']);
  const bundle = options.bundle === true ? ['--repo1-bundle'] : [];
  const states: { label: string; digests: Digests }[] = [];
  for (const type of ['full', 'diff', 'incr']) {
    const before = await digests(stanza.cluster);
    await stanza.pgbackrest(['backup', `--type=${type}`, ...bundle]);
    const info = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as { backup: { label: string }[] }[];
    states.push({ label: info[0]!.backup.at(-1)!.label, digests: before });
    await stanza.cluster.pgbench(['-t', '300', '-c', '2', '-n']);
    await stanza.cluster.query('UPDATE tsdata SET v = md5(v) WHERE id % 7 = 0');
  }
  await switchAndArchive(stanza);
  return { stanza, tablespace, wal, states, latest: await digests(stanza.cluster) };
}

describe('backups taken by pgbackrest with compress-type lz4, restored by pgkeep', () => {
  let source: Awaited<ReturnType<typeof sourceStanza>>;
  const clusters: PgCluster[] = [];
  const newCluster = async () => {
    const cluster = await emptyCluster();
    clusters.push(cluster);
    return cluster;
  };

  beforeAll(async () => {
    source = await sourceStanza('lz4');
  });
  afterAll(async () => {
    for (const cluster of clusters) await cluster.destroy();
    await source?.stanza.destroy();
  });

  it('pgkeep info --set prints what pgbackrest info --set prints, tablespace and symlinked pg_wal included', async () => {
    for (const { label } of source.states) {
      for (const output of [[], ['--output=json']]) {
        const args = [...output, `--set=${label}`, 'info'];
        const ours = (await source.stanza.pgkeep(args)).stdout;
        if (output.length === 0) expect(ours).toMatch(/symlinks:\n {16}pg_wal => .*\n {12}tablespaces:\n {16}ts1 \(\d+\) => /);
        expect(ours.trimEnd()).toBe((await source.stanza.pgbackrest(args)).stdout.trimEnd());
      }
    }
  });

  it.each([0, 1, 2])('restores backup %i of full, diff, incr as it was when it ended (tablespace remapped)', async (index) => {
    const { label, digests: expected } = source.states[index]!;
    const target = await newCluster();
    const tablespace = join(target.root, 'ts-restored');
    const result = await source.stanza.pgkeep([
      'restore',
      `--pg1-path=${target.dataDir}`,
      `--set=${label}`,
      '--type=immediate',
      '--target-action=promote',
      `--tablespace-map=ts1=${tablespace}`,
      '--process-max=2',
      '--log-level-console=detail',
    ]);
    expect(result.stdout).toContain(`map tablespace 'pg_tblspc/`);
    expect(result.stdout + result.stderr).toContain(
      "contents of directory link 'pg_wal' will be restored in a directory at the same location",
    );
    const oid = readdirSync(join(target.dataDir, 'pg_tblspc'))[0]!;
    expect(readlinkSync(join(target.dataDir, 'pg_tblspc', oid))).toBe(tablespace);
    expect(readdirSync(tablespace)).toEqual(['PG_15_202209061']);
    expect(lstatSync(join(target.dataDir, 'pg_wal')).isDirectory()).toBe(true);
    await startRestored(target);
    expect(await digests(target)).toEqual(expected);
  });

  it('restores the latest backup and replays the archive to its end, pg_wal mapped to a new link, tablespaces under --tablespace-map-all', async () => {
    const target = await newCluster();
    const wal = join(target.root, 'wal-restored');
    const all = join(target.root, 'tablespaces');
    mkdirSync(all);
    chownSync(all, osUser('postgres').uid, osUser('postgres').gid);
    const plan = planOf(
      await source.stanza.pgkeep([
        'restore',
        `--pg1-path=${target.dataDir}`,
        `--link-map=pg_wal=${wal}`,
        `--tablespace-map-all=${all}`,
        '--dry-run',
        '--output=json',
      ]),
    );
    expect(plan.targets.map((entry) => [entry.kind, entry.path])).toEqual([
      ['data', target.dataDir],
      ['tablespace', `${all}/ts1`],
      ['path-link', wal],
    ]);
    await source.stanza.pgkeep([
      'restore',
      `--pg1-path=${target.dataDir}`,
      `--link-map=pg_wal=${wal}`,
      `--tablespace-map-all=${all}`,
    ]);
    expect(readlinkSync(join(target.dataDir, 'pg_wal'))).toBe(wal);
    await startRestored(target);
    expect(await digests(target)).toEqual(source.latest);
  });

  it('restores the same files, modes, times and recovery settings as pgbackrest restore', async () => {
    const { label } = source.states[2]!;
    const ours = await newCluster();
    const theirs = await newCluster();
    const options = (cluster: PgCluster) => [
      `--pg1-path=${cluster.dataDir}`,
      `--set=${label}`,
      `--tablespace-map=ts1=${join(cluster.root, 'ts')}`,
      `--link-map=pg_wal=${join(cluster.root, 'wal')}`,
      '--type=time',
      '--target=2030-01-01 00:00:00+00',
      '--target-action=promote',
      '--target-timeline=current',
      '--recovery-option=primary-conninfo=host=elsewhere',
      '--archive-mode=off',
    ];
    // pgkeep refuses this target (after the end of the archive); pgbackrest writes it anyway: compare with --set chosen
    const refused = await source.stanza.pgkeep(['restore', ...options(ours)], { check: false });
    expect(refused.code).toBe(131);
    await source.stanza.pgkeep([
      'restore',
      ...options(ours).filter(
        (option) => !option.startsWith('--type') && !option.startsWith('--target=') && !option.startsWith('--target-action'),
      ),
    ]);
    await source.stanza.pgbackrest([
      'restore',
      ...options(theirs).filter(
        (option) => !option.startsWith('--type') && !option.startsWith('--target=') && !option.startsWith('--target-action'),
      ),
    ]);
    const files = (cluster: PgCluster, dir: string) =>
      new Map(
        [...snapshot(join(cluster.root, dir))]
          .filter(([name]) => name !== 'postgresql.auto.conf' && name !== 'recovery.signal')
          .map(([name, entry]) => [name, entry.replace(cluster.root, '<root>')]),
      );
    for (const dir of ['data', 'ts', 'wal']) expect(files(ours, dir), dir).toEqual(files(theirs, dir));
    expect(readlinkSync(join(ours.dataDir, 'pg_wal'))).toBe(join(ours.root, 'wal'));
    const autoConf = (cluster: PgCluster) =>
      readFileSync(join(cluster.dataDir, 'postgresql.auto.conf'), 'utf8')
        .replace(/(restore on|restore on) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, 'restore on <time>')
        .replace(/pgBackRest|pgkeep/g, '<tool>')
        .replace(/restore_command = '.*'/, "restore_command = '<command>'");
    expect(autoConf(ours)).toBe(autoConf(theirs));
    expect(autoConf(ours)).toContain(
      "primary_conninfo = 'host=elsewhere'\narchive_mode = 'off'\nrestore_command = '<command>'\nrecovery_target_timeline = 'current'\n",
    );
    expect(readFileSync(join(ours.dataDir, 'postgresql.auto.conf'), 'utf8')).toMatch(
      /restore_command = '\S+ --config=\S+ --pg1-path=\S+ --stanza=main archive-get %f "%p"'/,
    );
  });

  it('as root (--allow-root) gives every file, directory and link the owner the manifest names', async () => {
    const target = await newCluster();
    const tablespace = join(target.root, 'ts-root');
    const result = await run(
      pgkeepBin(),
      [
        `--config=${source.stanza.configPath}`,
        '--stanza=main',
        'restore',
        '--allow-root',
        `--pg1-path=${target.dataDir}`,
        `--tablespace-map=ts1=${tablespace}`,
        '--type=immediate',
        '--target-action=promote',
      ],
      { env: { PATH: process.env.PATH } },
    );
    expect(result.code).toBe(0);
    const postgres = osUser('postgres');
    const owners = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const stats = lstatSync(path);
        owners.add(`${stats.uid}:${stats.gid}`);
        if (entry.isDirectory()) walk(path);
      }
    };
    walk(target.dataDir);
    walk(tablespace);
    expect(owners).toEqual(new Set([`${postgres.uid}:${postgres.gid}`]));
    await startRestored(target);
    expect(await digests(target)).toEqual(source.states[2]!.digests);
  });

  it('restores in place without maps after the cluster is lost, links and tablespace where they were (--link-all)', async () => {
    const cluster = source.stanza.cluster;
    await cluster.stop('immediate');
    for (const dir of [cluster.dataDir, source.wal, source.tablespace]) {
      for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
    }
    const result = await source.stanza.pgkeep(['restore', '--link-all', '--log-level-console=info']);
    expect(result.stdout).not.toContain('map tablespace');
    expect(readlinkSync(join(cluster.dataDir, 'pg_wal'))).toBe(source.wal);
    expect(existsSync(join(source.tablespace, 'PG_15_202209061'))).toBe(true);
    await startRestored(cluster);
    expect(await digests(cluster)).toEqual(source.latest);
  });
});

describe.each([
  { compressType: 'gz', bundle: true },
  { compressType: 'none', bundle: false },
])(
  'backups taken by pgbackrest with compress-type $compressType (bundle: $bundle), restored by pgkeep',
  ({ compressType, bundle }) => {
    let source: Awaited<ReturnType<typeof sourceStanza>>;
    const clusters: PgCluster[] = [];

    beforeAll(async () => {
      source = await sourceStanza(compressType, { bundle });
    });
    afterAll(async () => {
      for (const cluster of clusters) await cluster.destroy();
      await source?.stanza.destroy();
    });

    it('restores the diff as it was when it ended', async () => {
      const { label, digests: expected } = source.states[1]!;
      const target = await emptyCluster();
      clusters.push(target);
      await source.stanza.pgkeep([
        'restore',
        `--pg1-path=${target.dataDir}`,
        `--set=${label}`,
        '--type=immediate',
        '--target-action=promote',
        `--tablespace-map=ts1=${tempDir('ts')}`,
      ]);
      await startRestored(target);
      expect(await digests(target)).toEqual(expected);
    });

    it('restores the latest (incr) to the end of the archive', async () => {
      const target = await emptyCluster();
      clusters.push(target);
      const plan = planOf(
        await source.stanza.pgkeep([
          'restore',
          `--pg1-path=${target.dataDir}`,
          `--tablespace-map=ts1=${tempDir('ts')}`,
          '--dry-run',
          '--output=json',
        ]),
      );
      expect(plan.backup!.type).toBe('incr');
      expect(plan.backup!.compressType).toBe(compressType);
      expect(plan.files.some((file) => file.repo !== null && file.repo.offset !== null)).toBe(bundle);
      await source.stanza.pgkeep([
        'restore',
        `--pg1-path=${target.dataDir}`,
        `--tablespace-map=ts1=${tempDir('ts')}`,
        '--process-max=2',
      ]);
      await startRestored(target);
      expect(await digests(target)).toEqual(source.latest);
    });
  },
);
