import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  closeSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { osUser } from '../../harness/os-user.js';
import type { PgCluster } from '../../harness/pg-cluster.js';
import { pgkeepBin, TestStanza } from '../../harness/stanza.js';
import type { RestorePlanJson } from '../../../engine/command/restore/plan-json.js';
import { emptyCluster, fetchedFiles, planOf, snapshot, startRestored, switchAndArchive, tableDigest } from './helpers.js';

/** SHA-1 of the first `size` bytes of a file, undefined when it is missing or shorter. */
function prefixSha1(path: string, size: number): string | undefined {
  if (!existsSync(path)) return undefined;
  const buffer = Buffer.alloc(size);
  const fd = openSync(path, 'r');
  try {
    if (readSync(fd, buffer, 0, size, 0) < size) return undefined;
  } finally {
    closeSync(fd);
  }
  return createHash('sha1').update(buffer).digest('hex');
}

/** What a delta restore must fetch, worked out from the files themselves: missing, shorter or different, and pg_control. */
function expectedFetches(plan: RestorePlanJson): string[] {
  return plan.files
    .filter(
      (file) =>
        file.size > 0 && (file.name === 'pg_data/global/pg_control' || prefixSha1(file.path, file.size) !== file.checksum),
    )
    .map((file) => file.path)
    .sort();
}

describe('delta restore', () => {
  let stanza: TestStanza;
  let source: { rows: number; md5: string };
  let changed: PgCluster;
  const clusters: PgCluster[] = [];
  const pgkeep = (cluster: PgCluster, args: string[], check = true) =>
    stanza.pgkeep(['restore', `--pg1-path=${cluster.dataDir}`, ...args], { check });
  // The recovery settings are written at restore time (the time and the data directory are in them)
  const withoutAutoConf = (entries: Map<string, string>) =>
    new Map([...entries].filter(([name]) => name !== 'postgresql.auto.conf' && name !== 'recovery.signal'));

  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(2, { archiver: 'pgbackrest' });
    await stanza.pgbackrest(['backup', '--type=full']);
    await switchAndArchive(stanza);
    source = await tableDigest(stanza.cluster, 'pgbench_accounts');

    // A restored cluster that then lived on: recovered, promoted, changed, plus things the backup never had
    changed = await emptyCluster();
    clusters.push(changed);
    await pgkeep(changed, []);
    await startRestored(changed);
    await changed.pgbench(['-t', '200', '-n']);
    await changed.query('CREATE TABLE extra AS SELECT g FROM generate_series(1, 10000) g');
    await changed.stop();
    const postgres = osUser('postgres');
    writeFileSync(join(changed.dataDir, 'junk.txt'), 'not in the backup');
    mkdirSync(join(changed.dataDir, 'junk-dir', 'deeper'), { recursive: true });
    writeFileSync(join(changed.dataDir, 'junk-dir', 'deeper', 'file'), 'x');
    symlinkSync('/etc', join(changed.dataDir, 'base', 'escape'));
    chmodSync(join(changed.dataDir, 'PG_VERSION'), 0o644);
    for (const path of ['junk.txt', 'junk-dir', 'junk-dir/deeper', 'junk-dir/deeper/file', 'base/escape'])
      lchownSync(join(changed.dataDir, path), postgres.uid, postgres.gid);
  });
  afterAll(async () => {
    for (const cluster of clusters) await cluster.destroy();
    await stanza?.destroy();
  });

  it('dry-run plans the delta and writes nothing', async () => {
    const before = snapshot(changed.root);
    const plan = planOf(await pgkeep(changed, ['--delta', '--dry-run', '--output=json']));
    expect(snapshot(changed.root)).toEqual(before);
    expect(plan.ok).toBe(true);
    expect(plan.summary.files.keep).toBeGreaterThan(plan.summary.fetchFiles);
    expect(
      plan.files
        .filter((file) => file.repo !== null)
        .map((file) => file.path)
        .sort(),
    ).toEqual(expectedFetches(plan));
    const removed = plan.removals.map((removal) => removal.path.slice(changed.dataDir.length + 1));
    expect(removed).toEqual(expect.arrayContaining(['junk.txt', 'junk-dir', 'base/escape']));
    expect(removed.some((path) => path.startsWith('junk-dir/'))).toBe(false);
    expect(plan.files.find((file) => file.name === 'pg_data/PG_VERSION')).toMatchObject({
      action: 'keep',
      reason: 'checksum matches',
    });
  });

  it('fetches exactly what the plan says, and leaves the directory equal to a fresh restore', async () => {
    const plan = planOf(await pgkeep(changed, ['--delta', '--dry-run', '--output=json']));
    const result = await pgkeep(changed, ['--delta', '--process-max=2', '--log-level-console=detail']);
    const fetched = fetchedFiles(result.stdout).sort();
    expect(fetched).toEqual(
      plan.files
        .filter((file) => file.repo !== null)
        .map((file) => file.path)
        .sort(),
    );
    expect(result.stdout).toContain(`fetched ${plan.summary.fetchFiles} files`);
    // pgBackRest's line for a link the backup does not have
    expect(result.stdout).toMatch(/DETAIL: remove invalid link '.*\/base\/escape'\n/);
    expect(existsSync('/etc/passwd')).toBe(true); // the link was removed, not followed

    const fresh = await emptyCluster();
    clusters.push(fresh);
    await pgkeep(fresh, []);
    expect(withoutAutoConf(snapshot(changed.dataDir))).toEqual(withoutAutoConf(snapshot(fresh.dataDir)));
    await startRestored(changed);
    expect(await tableDigest(changed, 'pgbench_accounts')).toEqual(source);
    await changed.stop();
  });

  it('with --force compares size and time only, with the same result', async () => {
    await startRestored(changed);
    await changed.pgbench(['-t', '100', '-n']);
    await changed.stop();
    const plan = planOf(await pgkeep(changed, ['--delta', '--force', '--dry-run', '--output=json']));
    expect(new Set(plan.files.filter((file) => file.action === 'keep').map((file) => file.reason))).toEqual(
      new Set(['size and modification time match']),
    );
    await pgkeep(changed, ['--delta', '--force']);
    await startRestored(changed);
    expect(await tableDigest(changed, 'pgbench_accounts')).toEqual(source);
    await changed.stop();
  });

  it('an interrupted restore (kill -9) is refused without --delta and completed with it', async () => {
    const target = await emptyCluster();
    clusters.push(target);
    const user = osUser('postgres');
    const child = spawn(
      pgkeepBin(),
      [`--config=${stanza.configPath}`, '--stanza=main', 'restore', `--pg1-path=${target.dataDir}`, '--process-max=1'],
      {
        uid: user.uid,
        gid: user.gid,
        cwd: stanza.root,
        detached: true,
        stdio: 'ignore',
        env: { PATH: process.env.PATH, HOME: user.home },
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let killed = false;
    for (let attempt = 0; attempt < 2000 && !killed; attempt++) {
      const staging = readdirSync(target.dataDir).find((name) => name.startsWith('.pgkeep-restore-'));
      if (staging !== undefined && readdirSync(join(target.dataDir, staging)).length >= 20) {
        process.kill(-child.pid!, 'SIGKILL');
        killed = true;
      } else await sleep(5);
    }
    await exited;
    expect(killed).toBe(true);
    expect(existsSync(join(target.dataDir, 'backup.manifest'))).toBe(true);
    expect(existsSync(join(target.dataDir, 'global', 'pg_control'))).toBe(false);

    const refused = await pgkeep(target, [], false);
    expect(refused.code).toBe(40);
    expect(refused.stderr).toContain('a restore into it was interrupted');
    await pgkeep(target, ['--delta']);
    expect(readdirSync(target.dataDir).some((name) => name.startsWith('.pgkeep-restore-'))).toBe(false);
    expect(existsSync(join(target.dataDir, 'backup.manifest'))).toBe(false);
    await startRestored(target);
    expect(await tableDigest(target, 'pgbench_accounts')).toEqual(source);
  });

  it('a file system mounted inside the data directory: files reach it by copy, not rename', async () => {
    const target = await emptyCluster();
    clusters.push(target);
    await pgkeep(target, []);
    const database = readdirSync(join(target.dataDir, 'base')).sort().at(-1)!;
    const mount = join(target.dataDir, 'base', database);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', mount]);
    try {
      chownSync(mount, osUser('postgres').uid, osUser('postgres').gid);
      chmodSync(mount, 0o700);
      const plan = planOf(await pgkeep(target, ['--delta', '--dry-run', '--output=json']));
      expect(plan.summary.fetchFiles).toBeGreaterThan(10);
      await pgkeep(target, ['--delta']);
      await startRestored(target);
      expect(await tableDigest(target, 'pgbench_accounts')).toEqual(source);
      await target.stop();
    } finally {
      execFileSync('umount', [mount]);
    }
  });

  it('refuses to restore over a running cluster', async () => {
    await startRestored(changed);
    const result = await pgkeep(changed, ['--delta'], false);
    expect(result.code).toBe(38);
    expect(result.stderr).toContain('unable to restore while PostgreSQL is running');
    expect(readFileSync(join(changed.dataDir, 'postmaster.pid'), 'utf8')).toContain(changed.dataDir);
    await changed.stop();
  });
});
