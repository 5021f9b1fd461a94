import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { PgCluster } from '../../harness/pg-cluster.js';
import { TestStanza } from '../../harness/stanza.js';
import { emptyCluster, planOf, snapshot, startRestored, switchAndArchive } from './helpers.js';

/**
 * Point-in-time recovery from backups taken by the real pgbackrest 2.45, and by pgkeep (WAL
 * archived by the same tool): transaction A, then the
 * targets (a time, a restore point, A's xid, an lsn), then transaction B. Every target gives A's row
 * and not B's, whichever backup the restore has to choose; targets the backups and the archive
 * cannot reach are refused before anything is written, saying what is recoverable.
 */
describe.each(['pgbackrest', 'pgkeep'] as const)('point-in-time restore of %s backups', (tool) => {
  let stanza: TestStanza;
  let full: string;
  let incr: string;
  let xidA: string;
  let lsnA: string;
  let time: string;
  let segmentA: string;
  const clusters: PgCluster[] = [];

  const rows = async (cluster: PgCluster) =>
    (await cluster.query<{ id: number }>('SELECT id FROM t ORDER BY id')).map((row) => row.id);
  const restore = async (args: string[], options: { paused?: boolean } = {}) => {
    const target = await emptyCluster();
    clusters.push(target);
    await stanza.pgkeep(['restore', `--pg1-path=${target.dataDir}`, ...args]);
    await startRestored(target, options);
    return target;
  };

  beforeAll(async () => {
    stanza = await TestStanza.create({ archiver: tool });
    const backupTool = (args: string[]) => (tool === 'pgkeep' ? stanza.pgkeep(args) : stanza.pgbackrest(args));
    await backupTool(['stanza-create']);
    await stanza.cluster.query('CREATE TABLE t (id int PRIMARY KEY, note text)');
    await backupTool(['backup', '--type=full']);
    xidA = String(
      await stanza.cluster.value("WITH a AS (INSERT INTO t VALUES (1, 'a') RETURNING 1) SELECT txid_current()::text FROM a"),
    );
    await stanza.cluster.query("SELECT pg_create_restore_point('after-a')");
    lsnA = String(await stanza.cluster.value('SELECT pg_current_wal_lsn()::text'));
    segmentA = await switchAndArchive(stanza);
    await sleep(1200);
    time = String(await stanza.cluster.value('SELECT clock_timestamp()::timestamptz(6)::text'));
    await sleep(1200);
    await backupTool(['backup', '--type=incr']);
    await stanza.cluster.query("INSERT INTO t VALUES (2, 'b')");
    await switchAndArchive(stanza);
    const info = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as { backup: { label: string }[] }[];
    [full, incr] = info[0]!.backup.map((backup) => backup.label) as [string, string];
  });
  afterAll(async () => {
    for (const cluster of clusters) await cluster.destroy();
    await stanza?.destroy();
  });

  it('to a time: the newest backup that ended before it, and only the rows committed before it', async () => {
    const target = await emptyCluster();
    clusters.push(target);
    const plan = planOf(
      await stanza.pgkeep([
        'restore',
        `--pg1-path=${target.dataDir}`,
        '--type=time',
        `--target=${time}`,
        '--dry-run',
        '--output=json',
      ]),
    );
    expect(plan.backup).toMatchObject({ label: full, selectedBy: 'target' });
    expect(plan.wal!.target.status).toBe('reachable');
    expect(plan.recovery.settings).toContainEqual({ key: 'recovery_target_time', value: time });
    await stanza.pgkeep(['restore', `--pg1-path=${target.dataDir}`, '--type=time', `--target=${time}`]);
    await startRestored(target, { paused: true });
    expect(await rows(target)).toEqual([1]);
  });

  it('to a restore point: found in the WAL, which picks the older backup', async () => {
    const target = await restore(['--type=name', '--target=after-a', '--target-action=promote']);
    expect(await rows(target)).toEqual([1]);
    const plan = planOf(
      await stanza.pgkeep(
        ['restore', '--pg1-path=/nonexistent/x', '--type=name', '--target=after-a', '--dry-run', '--output=json'],
        { check: false },
      ),
    );
    expect(plan.backup!.label).toBe(full);
    expect(plan.wal!.target).toMatchObject({ status: 'reachable' });
  });

  it("to transaction A's xid", async () => {
    const target = await restore(['--type=xid', `--target=${xidA}`, '--target-action=promote']);
    expect(await rows(target)).toEqual([1]);
  });

  it('to an lsn between the two transactions', async () => {
    const target = await restore(['--type=lsn', `--target=${lsnA}`, '--target-action=promote']);
    expect(await rows(target)).toEqual([1]);
  });

  it('to the end of the archive by default, from the latest backup', async () => {
    const target = await restore([]);
    expect(await rows(target)).toEqual([1, 2]);
  });

  it('to the backup alone with --type=immediate', async () => {
    const target = await restore([`--set=${full}`, '--type=immediate', '--target-action=promote']);
    expect(await rows(target)).toEqual([]);
    expect(incr).toMatch(/I$/);
  });

  it('as a standby: standby.signal, and it follows the archive', async () => {
    const target = await emptyCluster();
    clusters.push(target);
    await stanza.pgkeep(['restore', `--pg1-path=${target.dataDir}`, '--type=standby']);
    expect(existsSync(join(target.dataDir, 'standby.signal'))).toBe(true);
    expect(existsSync(join(target.dataDir, 'recovery.signal'))).toBe(false);
    await startRestored(target, { standby: true });
    for (let attempt = 0; attempt < 100 && (await rows(target)).length < 2; attempt++) await sleep(200);
    expect(await rows(target)).toEqual([1, 2]);
    expect(await target.value('SELECT pg_is_in_recovery()')).toBe(true);
  });

  describe('refuses a target the backups and the archive cannot reach, writing nothing', () => {
    let target: PgCluster;
    let before: Map<string, string>;

    beforeAll(async () => {
      target = await emptyCluster();
      clusters.push(target);
      before = snapshot(target.root);
    });

    const refused = async (args: string[]) => {
      const result = await stanza.pgkeep(['restore', `--pg1-path=${target.dataDir}`, ...args], { check: false });
      expect(snapshot(target.root)).toEqual(before);
      return result;
    };

    it('a time before the end of the oldest backup', async () => {
      const result = await refused(['--type=time', '--target=2001-01-01 00:00:00+00']);
      expect(result.code).toBe(131);
      expect(result.stderr).toMatch(/no backup ended before the target time .*: the oldest backup, .*, ended at/);
      expect(result.stderr).toMatch(/HINT: recovery can reach times after/);
    });

    it('a time after the last transaction in the archive', async () => {
      const result = await refused(['--type=time', '--target=2099-01-01 00:00:00+00']);
      expect(result.code).toBe(131);
      expect(result.stderr).toContain('is not before the last transaction in the archive, ended at');
      expect(result.stderr).toMatch(/recoverable times are after .* and before/);
    });

    it('an lsn after the end of the archived WAL', async () => {
      const result = await refused(['--type=lsn', '--target=FF/0']);
      expect(result.code).toBe(131);
      expect(result.stderr).toContain('is after the end of the archived WAL');
    });

    it('an lsn before the end of the chosen backup', async () => {
      const result = await refused([`--set=${incr}`, '--type=lsn', `--target=${lsnA}`]);
      expect(result.code).toBe(131);
      expect(result.stderr).toContain(`is before the end of backup ${incr}`);
    });

    it('a timeline that is not in the history', async () => {
      const result = await refused(['--target-timeline=7']);
      expect(result.code).toBe(131);
      expect(result.stderr).toContain('target timeline 7 is not in the archive: it has no 00000007.history file');
    });

    it('a restore point that is not in the WAL', async () => {
      const result = await refused(['--type=name', '--target=no-such-point']);
      expect(result.code).toBe(131);
      expect(result.stderr).toContain("restore point 'no-such-point' is not in the archived WAL");
    });

    it('a missing WAL segment on the way to the target, named', async () => {
      const dir = join(stanza.repoPath, 'archive', 'main', '15-1', segmentA.slice(0, 16));
      const stored = readdirSync(dir).find((name) => name.startsWith(segmentA))!;
      rmSync(join(dir, stored));
      const result = await refused(['--type=time', `--target=${time}`]);
      expect(result.code).toBe(134);
      expect(result.stderr).toContain(`WAL segment ${segmentA} is missing from the archive`);
      const plan = planOf(await refused(['--type=time', `--target=${time}`, '--dry-run', '--output=json']));
      expect(plan.wal!.missing).toEqual([segmentA]);
      expect(plan.wal!.endOfArchive!.gapBefore).toBe(segmentA);
    });
  });
});
