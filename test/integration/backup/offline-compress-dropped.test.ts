import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { osUser } from '../../harness/os-user.js';
import { PgCluster } from '../../harness/pg-cluster.js';
import { pgbenchState } from '../../harness/pgbench-state.js';
import { RunningBackup } from '../../harness/running-backup.js';
import { TestStanza } from '../../harness/stanza.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

/** The label of the newest backup, from pgbackrest's info. */
async function newestLabel(stanza: TestStanza): Promise<string> {
  const [info] = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as [{ backup: { label: string }[] }];
  return info.backup.at(-1)!.label;
}

/** pgbackrest restores the backup into a new directory and the cluster starts; returns it (running). */
async function restoredByPgbackrest(stanza: TestStanza, label: string, recovery: readonly string[]): Promise<PgCluster> {
  const data = join(tempDir('restore'), 'data');
  mkdirSync(data, { mode: 0o700 });
  chownSync(data, osUser().uid, osUser().gid);
  await stanza.pgbackrest([`--set=${label}`, `--pg1-path=${data}`, ...recovery, 'restore']);
  const cluster = await PgCluster.adopt(data);
  await cluster.start();
  return cluster;
}

/** Stops a restored cluster and removes it. */
async function discard(cluster: PgCluster): Promise<void> {
  await cluster.destroy();
  removeDir(join(cluster.dataDir, '..'));
}

describe('offline backups (--no-online)', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(1);
  });
  afterAll(async () => stanza?.destroy());

  it('are refused while PostgreSQL runs, and write nothing', async () => {
    const before = readdirSync(join(stanza.repoPath, 'backup', 'main'));
    const refused = await stanza.pgkeep(['--no-online', '--type=full', 'backup'], { check: false });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `--no-online was given but '${join(stanza.cluster.dataDir, 'postmaster.pid')}' exists: PostgreSQL seems to be running`,
    );
    expect(refused.stderr).toContain('HINT: stop the cluster for an offline backup, or pass --force');
    expect(readdirSync(join(stanza.repoPath, 'backup', 'main'))).toEqual(before);
  });

  it('of a stopped cluster restore with pgbackrest; a postmaster.pid left by a crash needs --force', async () => {
    const state = await pgbenchState(stanza.cluster);
    await stanza.cluster.stop();
    // What a crash leaves: the file, and no server.
    const pidFile = join(stanza.cluster.dataDir, 'postmaster.pid');
    writeFileSync(pidFile, '999999\n');
    const refused = await stanza.pgkeep(['--no-online', '--type=full', 'backup'], { check: false });
    expect(refused.stderr).toContain('PostgreSQL seems to be running');

    const backup = await stanza.pgkeep(['--no-online', '--force', '--type=full', 'backup']);
    expect(backup.code).toBe(0);
    const label = await newestLabel(stanza);
    const manifest = readFileSync(join(stanza.repoPath, 'backup', 'main', label, 'backup.manifest'), 'utf8');
    expect(manifest).toContain('option-online=false');
    expect(manifest).not.toMatch(/^pg_data\/postmaster\.pid=/m);
    const verify = await stanza.pgbackrest(['--output=text', '--verbose', 'verify']);
    expect(verify.stdout).toContain(`backup: ${label}, status: valid`);

    // Consistent as it is: no WAL is needed to start it.
    const restored = await restoredByPgbackrest(stanza, label, ['--type=none']);
    try {
      expect(await pgbenchState(restored)).toEqual(state);
    } finally {
      await discard(restored);
    }
    await stanza.cluster.start();
  });
});

describe('the compression of a backup set', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(1, { archiver: 'pgbackrest' });
  });
  afterAll(async () => stanza?.destroy());

  it('an incremental on a pgbackrest full in a format pgkeep does not write is refused, with the way out', async () => {
    await stanza.pgbackrest(['--type=full', '--compress-type=zst', 'backup']);
    const full = await newestLabel(stanza);
    const refused = await stanza.pgkeep(['--type=incr', 'backup'], { check: false });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`prior backup ${full} is compressed with zst, which pgkeep does not write`);
    expect(refused.stderr).toContain('HINT: take a full backup with --type=full');
    expect(await newestLabel(stanza)).toBe(full);
  });

  it('an incremental keeps its full backup compression, with a warning when another is asked for', async () => {
    await stanza.pgkeep(['--type=full', '--compress-type=lz4', 'backup']);
    const full = await newestLabel(stanza);
    await stanza.cluster.query('UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 1000');
    const incr = await stanza.pgkeep(['--type=incr', '--compress-type=gz', 'backup']);
    expect(incr.stderr).toContain(`WARN: incr backup cannot alter compress-type option to 'gz', reset to value in ${full}`);
    const label = await newestLabel(stanza);
    expect(label.startsWith(`${full}_`)).toBe(true);
    const dir = join(stanza.repoPath, 'backup', 'main', label);
    expect(readFileSync(join(dir, 'backup.manifest'), 'utf8')).toContain('option-compress-type="lz4"');
    const stored = readdirSync(join(dir, 'pg_data'), { recursive: true }).map(String);
    expect(stored.some((name) => name.endsWith('.lz4'))).toBe(true);
    expect(stored.some((name) => name.endsWith('.gz'))).toBe(false);
    expect((await stanza.pgbackrest(['--output=text', '--verbose', 'verify'])).stdout).toContain(
      `backup: ${label}, status: valid`,
    );
  });
});

describe('a relation dropped while the backup copies', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(5, { global: { 'process-max': 1 } });
    // One page: copied among the last (largest files first).
    await stanza.cluster.query('CREATE TABLE doomed AS SELECT 1 AS id');
    await stanza.cluster.query('CHECKPOINT');
  });
  afterAll(async () => stanza?.destroy());

  it('is skipped, not an error, and the backup restores without it', async () => {
    const relation = `pg_data/${String(await stanza.cluster.value("SELECT pg_relation_filepath('doomed')"))}`;
    const backupDir = join(stanza.repoPath, 'backup', 'main');
    const before = new Set(readdirSync(backupDir));
    // The console log (detail) goes to standard output, warnings and errors to standard error.
    const backup = new RunningBackup(stanza, ['--log-level-console=detail', '--type=full']);

    // The checkpoint manifest is saved once the plan is made, just before the copy: stop the
    // backup there, drop the table and have its file removed, and let the copy go on.
    await backup.until('it reached its copy', () => {
      const label = readdirSync(backupDir).find((name) => !before.has(name));
      return label !== undefined && existsSync(join(backupDir, label, 'backup.manifest.copy')) ? true : undefined;
    });
    process.kill(backup.pid, 'SIGSTOP');
    try {
      await stanza.cluster.query('DROP TABLE doomed');
      await stanza.cluster.query('CHECKPOINT'); // PostgreSQL removes the dropped relation's first segment here
      expect(existsSync(join(stanza.cluster.dataDir, relation.slice('pg_data/'.length)))).toBe(false);
    } finally {
      process.kill(backup.pid, 'SIGCONT');
    }
    expect(await backup.exited).toBe(0);
    const output = backup.stdout + backup.stderr;
    // pgBackRest's line: the file's path in the data directory
    expect(output).toContain(
      `DETAIL: skip file removed by database ${join(stanza.cluster.dataDir, relation.slice('pg_data/'.length))}\n`,
    );
    // Nothing to warn about but the retention this test leaves unset: a dropped file is expected.
    expect(output.split('\n').filter((line) => line.includes('WARN'))).toEqual([
      "WARN: option 'repo1-retention-full' is not set for 'repo1-retention-full-type=count', the repository may run out of space",
    ]);

    const label = await newestLabel(stanza);
    const manifest = readFileSync(join(backupDir, label, 'backup.manifest'), 'utf8');
    expect(manifest).not.toContain(`${relation}=`);
    expect((await stanza.pgbackrest(['--output=text', '--verbose', 'verify'])).stdout).toContain(
      `backup: ${label}, status: valid`,
    );
    const state = await pgbenchState(stanza.cluster);
    // Recovery to the end of the backup replays the drop too.
    const restored = await restoredByPgbackrest(stanza, label, ['--type=immediate', '--target-action=promote']);
    try {
      await restored.waitForRecoveryEnd();
      expect(await restored.value("SELECT to_regclass('doomed') IS NULL")).toBe(true);
      expect(await pgbenchState(restored)).toEqual(state);
    } finally {
      await discard(restored);
    }
  });
});
