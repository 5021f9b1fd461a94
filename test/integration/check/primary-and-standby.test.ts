import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PgCluster } from '../../harness/pg-cluster.js';
import { pgkeepBin, TestStanza } from '../../harness/stanza.js';
import { emptyCluster, startRestored } from '../restore/helpers.js';

/**
 * A stanza whose configuration lists a primary and its standby (pg1 ... pgN, in any order, as
 * after a failover): check, backup and stanza-create find the primary among them, as pgbackrest
 * 2.45 does, and exit as it does when there is none, or two; a standby configured beside the
 * primary is checked against the stanza too. The standby is a pgkeep restore with --type=standby,
 * following the archive.
 */
describe('a primary and its standby in one stanza', () => {
  let stanza: TestStanza;
  let standby: PgCluster;
  let other: PgCluster;

  /** pgN settings of a cluster. */
  const pg = (index: number, cluster: PgCluster) => ({
    [`pg${index}-path`]: cluster.dataDir,
    [`pg${index}-socket-path`]: cluster.socketDir,
    [`pg${index}-port`]: cluster.port,
  });
  /** The configuration lists these clusters as pg1, pg2 ... */
  const configure = (...clusters: PgCluster[]) =>
    stanza.writeConfig(undefined, Object.assign({}, ...clusters.slice(1).map((cluster, i) => pg(i + 2, cluster))), clusters[0]);
  const bothExit = (code: number, args: string[]) => stanza.bothExit(code, args);
  const labels = async () =>
    (JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as { backup: { label: string }[] }[])[0]!.backup.map(
      (backup) => backup.label,
    );

  beforeAll(async () => {
    stanza = await TestStanza.create();
    // The primary archives with a configuration of its own, as on its host: pg1 there is always
    // the primary, whose data directory archive-push finds the segment in. (Its name has
    // 'pgbackrest' in it, which pgbackrest's check wants to see in archive_command.)
    const archiveConfig = join(stanza.root, 'pgbackrest-archive.conf');
    copyFileSync(stanza.configPath, archiveConfig);
    stanza.cluster.configure({ archive_command: `'${pgkeepBin()} --config=${archiveConfig} --stanza=main archive-push %p'` });
    await stanza.cluster.query('SELECT pg_reload_conf()');
    await stanza.pgkeep(['stanza-create']);
    await stanza.cluster.query('CREATE TABLE t AS SELECT 1 AS id');
    await stanza.pgkeep(['backup', '--type=full']);
    standby = await emptyCluster();
    await stanza.pgkeep(['restore', `--pg1-path=${standby.dataDir}`, '--type=standby']);
    await startRestored(standby, { standby: true });
    other = await PgCluster.create();
    await other.start();
  }, 120_000);
  afterAll(async () => {
    await standby?.destroy();
    await other?.destroy();
    await stanza?.destroy();
  });

  it('the standby alone: check, backup and stanza-create refuse, with pgbackrest exit codes', async () => {
    configure(standby);
    const check = await bothExit(27, ['check']);
    expect(check).toContain('primary database not found: pg1 is a standby');
    expect(check).toContain('HINT: a standby is checked with its primary: add the primary to the stanza as another pgN');
    const backup = await bothExit(56, ['backup', '--type=incr']);
    expect(backup).toContain('unable to find primary cluster - cannot proceed');
    expect(backup).toContain('HINT: are all available clusters in recovery?');
    await bothExit(56, ['stanza-create']);
    expect(await labels()).toHaveLength(1);
  });

  it('the standby as pg1 and the primary as pg2: check switches WAL on the primary, backup backs up the primary', async () => {
    configure(standby, stanza.cluster);
    const check = await bothExit(0, ['check']);
    expect(check).toContain('check repo1 (standby)');
    expect(check).toContain('switch wal not performed because this is a standby');
    expect(check).toContain('check repo1 configuration (primary)');
    expect(check).toMatch(/WAL segment [0-9A-F]{24} successfully archived/);

    await stanza.pgkeep(['backup', '--type=incr']);
    const label = (await labels()).at(-1)!;
    const manifest = readFileSync(join(stanza.repoPath, 'backup', 'main', label, 'backup.manifest'), 'utf8');
    expect(manifest).toContain(`pg_data={"path":"${stanza.cluster.dataDir}","type":"path"}`);
    await stanza.pgbackrest(['backup', '--type=incr']);
    expect(await labels()).toHaveLength(3);
  });

  it('a configured cluster that does not answer is a warning while another is the primary; none answering is an error', async () => {
    configure(standby, stanza.cluster);
    await standby.stop();
    try {
      const check = await bothExit(0, ['check']);
      expect(check).toMatch(/WARN: unable to check pg1: \[DbConnect\] unable to connect to PostgreSQL on socket '.*'/);
      expect(check).toContain('check repo1 configuration (primary)');
      // None answers
      const nowhere = { dataDir: join(stanza.root, 'nowhere'), socketDir: standby.socketDir, port: standby.port };
      configure(standby, nowhere as unknown as PgCluster);
      const none = await bothExit(27, ['check']);
      expect(none).toContain('WARN: unable to check pg2: [DbConnect]');
      expect(none).toContain('no database found');
    } finally {
      await standby.start();
    }
  });

  it('two primaries: refused, the backup would not know which cluster it is of', async () => {
    configure(stanza.cluster, standby, other);
    const check = await bothExit(56, ['check']);
    expect(check).toContain('more than one primary cluster found: pg1 and pg3');
    await bothExit(56, ['backup', '--type=incr']);
    expect(await labels()).toHaveLength(3);
  });

  it("pg1-port of another cluster than pg1-path's: the backup copies nothing", async () => {
    // pg1-path is the stanza's cluster, so its pg_control matches; the session is on another.
    const mixed = { dataDir: stanza.cluster.dataDir, socketDir: other.socketDir, port: other.port };
    stanza.writeConfig(undefined, {}, mixed as unknown as PgCluster);
    const ours = await stanza.pgkeep(['backup', '--type=incr'], { check: false });
    const theirs = await stanza.pgbackrest(['backup', '--type=incr'], { check: false });
    expect(ours.code).toBe(58);
    expect(ours.stderr).toContain(
      `pg1-path '${stanza.cluster.dataDir}' is not the data directory of the database on port ${other.port}`,
    );
    // pgbackrest reads pg_control through the session, so it finds another system id first
    expect(theirs.code).not.toBe(0);
    expect(await labels()).toHaveLength(3);
  });
});
