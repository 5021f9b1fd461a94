import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { osUser } from '../../harness/os-user.js';
import type { PgCluster } from '../../harness/pg-cluster.js';
import { TestStanza } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';
import { parseManifest, renderManifest } from '../../../engine/repo/manifest/manifest.js';
import { emptyCluster, planOf, snapshot, startRestored, tableDigest } from './helpers.js';

/**
 * Failures that must stop the restore with a clear error and leave the target as it was: a damaged
 * repository file (named), a non-empty target without --delta, a manifest with names that escape
 * the targets, not enough space, impossible maps.
 */
describe('restore errors leave the target as it was', () => {
  let stanza: TestStanza;
  let label: string;
  let backupDir: string;
  let target: PgCluster;
  let before: Map<string, string>;
  const clusters: PgCluster[] = [];

  const restore = (args: string[], into: PgCluster = target) =>
    stanza.pgkeep(['restore', `--pg1-path=${into.dataDir}`, '--job-retry=0', ...args], { check: false });

  /** The largest stored data file of the backup (the one corrupted). */
  const largestFile = () => {
    const dir = join(backupDir, 'pg_data', 'base');
    const files = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
    return files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  };

  /** A directory postgres owns (the restores run as postgres). */
  const postgresDir = (path: string, mode: number) => {
    const postgres = osUser('postgres');
    mkdirSync(path, { mode, recursive: true });
    chownSync(path, postgres.uid, postgres.gid);
    return path;
  };

  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(1, { archiver: 'pgbackrest' });
    await stanza.pgbackrest(['backup', '--type=full']);
    label = readdirSync(join(stanza.repoPath, 'backup', 'main')).find((name) => name.endsWith('F'))!;
    backupDir = join(stanza.repoPath, 'backup', 'main', label);
    target = await emptyCluster();
    clusters.push(target);
    before = snapshot(target.root);
  });
  afterAll(async () => {
    for (const cluster of clusters) await cluster.destroy();
    await stanza?.destroy();
  });

  it('a corrupted repository file: named in the error, nothing left behind', async () => {
    const file = largestFile();
    const original = readFileSync(file);
    const damaged = Buffer.from(original);
    for (let offset = 1000; offset < 1100; offset++) damaged[offset] = damaged[offset]! ^ 0x5a;
    writeFileSync(file, damaged);
    try {
      const result = await restore([]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(file);
      expect(snapshot(target.root)).toEqual(before);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('a truncated repository file: named, with a retry, nothing left behind', async () => {
    const file = largestFile();
    const original = readFileSync(file);
    truncateSync(file, Math.floor(original.length / 2));
    try {
      const result = await stanza.pgkeep(['restore', `--pg1-path=${target.dataDir}`, '--job-retry=1', '--process-max=2'], {
        check: false,
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(file);
      expect(result.stderr).toContain('failed after 2 attempts');
      expect(snapshot(target.root)).toEqual(before);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('a damaged file during a delta restore leaves the existing cluster as it was', async () => {
    const existing = await emptyCluster();
    clusters.push(existing);
    await restore([], existing);
    await startRestored(existing);
    await existing.pgbench(['-t', '100', '-n']);
    await existing.stop();
    const state = snapshot(existing.root);
    const file = largestFile();
    const original = readFileSync(file);
    writeFileSync(file, Buffer.concat([original.subarray(0, 200), Buffer.alloc(original.length - 200, 7)]));
    try {
      const result = await restore(['--delta'], existing);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(file);
      expect(snapshot(existing.root)).toEqual(state);
    } finally {
      writeFileSync(file, original);
    }
    await restore(['--delta'], existing);
    await startRestored(existing);
    expect(await tableDigest(existing, 'pgbench_accounts')).toEqual(await tableDigest(stanza.cluster, 'pgbench_accounts'));
    await existing.stop();
  });

  it('a non-empty target without --delta', async () => {
    const other = await emptyCluster();
    clusters.push(other);
    writeFileSync(join(other.dataDir, 'something'), 'x');
    const state = snapshot(other.root);
    const result = await restore([], other);
    expect(result.code).toBe(40);
    expect(result.stderr).toContain(`unable to restore to path '${other.dataDir}' because it contains files`);
    expect(result.stderr).toContain('HINT: try using --delta if this is what you intended');
    expect(snapshot(other.root)).toEqual(state);
  });

  it.each([
    ['a .. component', 'pg_data/../../escaped', "has a '..' component"],
    ['an absolute path', '/tmp/escaped', 'is an absolute path'],
  ])('a manifest holding %s', async (_what, name, reason) => {
    const manifestPath = join(backupDir, 'backup.manifest');
    const originals = [manifestPath, `${manifestPath}.copy`].map((path) => [path, readFileSync(path)] as const);
    const manifest = parseManifest(originals[0]![1], manifestPath);
    const some = manifest.files.get('pg_data/PG_VERSION')!;
    manifest.files.set(name, { ...some, name });
    for (const [path] of originals) writeFileSync(path, renderManifest(manifest));
    try {
      const result = await restore([]);
      expect(result.code).toBe(137);
      expect(result.stderr).toContain(`manifest entry '${name}' in [target:file] ${reason}`);
      expect(snapshot(target.root)).toEqual(before);
    } finally {
      for (const [path, content] of originals) writeFileSync(path, content);
    }
  });

  it('not enough space on the target file system: refused before anything is written', async () => {
    const small = tempDir('small-fs');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    try {
      const postgres = osUser('postgres');
      chownSync(small, postgres.uid, postgres.gid);
      // The data directory itself does not fit on 1 MiB
      const dataDir = postgresDir(join(small, 'data'), 0o700);
      const result = await stanza.pgkeep(['restore', `--pg1-path=${dataDir}`], { check: false });
      expect(result.code).toBe(138);
      expect(result.stderr).toMatch(/not enough space for the restore on the file system of .*: .* needed, .* free/);
      expect(readdirSync(dataDir)).toEqual([]);
      const plan = planOf(
        await stanza.pgkeep(['restore', `--pg1-path=${dataDir}`, '--dry-run', '--output=json'], { check: false }),
      );
      expect(plan.space[0]).toMatchObject({ enough: false });
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('a target the restoring user cannot write, or that another user owns: code 53, as pgbackrest', async () => {
    const place = tempDir('no-access');
    const readOnly = postgresDir(join(place, 'read-only'), 0o500);
    const denied = await stanza.pgkeep(['restore', `--pg1-path=${readOnly}`], { check: false });
    expect(denied.code).toBe(53);
    expect((await stanza.pgbackrest(['restore', `--pg1-path=${readOnly}`], { check: false })).code).toBe(53);
    expect(denied.stderr).toContain(`unable to restore to path '${readOnly}' without rwx permissions`);
    expect(denied.stderr).toContain(
      `HINT: run the restore as the owner of '${readOnly}' (usually postgres), or fix its permissions`,
    );
    expect(readdirSync(readOnly)).toEqual([]);

    const rootOwned = join(place, 'root-owned');
    mkdirSync(rootOwned, { mode: 0o777 });
    const foreign = await stanza.pgkeep(['restore', `--pg1-path=${rootOwned}`], { check: false });
    expect(foreign.code).toBe(53);
    expect((await stanza.pgbackrest(['restore', `--pg1-path=${rootOwned}`], { check: false })).code).toBe(53);
    expect(foreign.stderr).toContain(`unable to restore to path '${rootOwned}' not owned by current user`);
    expect(readdirSync(rootOwned)).toEqual([]);
  });

  it('a target whose parent is missing, and a link mapped into the data directory', async () => {
    const missing = await stanza.pgkeep(['restore', '--pg1-path=/nonexistent/parent/data'], { check: false });
    expect(missing.code).toBe(73);
    expect(missing.stderr).toContain("its parent directory '/nonexistent/parent' does not exist");
    const inside = await restore([`--link-map=pg_wal=${join(target.dataDir, 'wal')}`]);
    expect(inside.code).toBe(70);
    expect(inside.stderr).toContain(`link 'pg_wal' destination '${join(target.dataDir, 'wal')}' is in PGDATA`);
    expect(snapshot(target.root)).toEqual(before);
  });
});
