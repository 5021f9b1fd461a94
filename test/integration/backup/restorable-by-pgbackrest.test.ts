import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { osUser } from '../../harness/os-user.js';
import { PgCluster } from '../../harness/pg-cluster.js';
import { pgbenchState } from '../../harness/pgbench-state.js';
import type { RunResult } from '../../harness/run.js';
import { TestStanza } from '../../harness/stanza.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

/**
 * pgkeep's full, diff and incremental backups of a pgbench cluster with a tablespace, taken while
 * pgbench writes, are valid for pgbackrest (verify, info) and restore with pgbackrest into
 * clusters that start, recover and hold the same data as the source.
 */
describe('pgkeep backups, taken under load, restored by pgbackrest', () => {
  let stanza: TestStanza;
  const labels: { type: string; label: string }[] = [];
  let source: Record<string, string>;

  beforeAll(async () => {
    stanza = await TestStanza.create({ global: { 'compress-type': 'lz4', 'process-max': 2 } });
    await stanza.cluster.createTablespace('ts1');
    await stanza.pgkeep(['stanza-create']);
    await stanza.cluster.pgbench(['-i', '-s', '3', '-q', '--tablespace=ts1']);

    for (const type of ['full', 'diff', 'incr']) {
      const load = stanza.cluster.pgbench(['-T', '4', '-c', '2', '-n']); // writes during the backup
      const result: RunResult = await stanza.pgkeep(['--output=json', `--type=${type}`, 'backup']);
      await load;
      const event = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { event: string; label: string; type: string };
      expect(event).toMatchObject({ event: 'result', type });
      labels.push({ type, label: event.label });
    }
    await stanza.pgkeep(['check']); // every WAL segment written so far is archived
    source = await pgbenchState(stanza.cluster);
  });
  afterAll(async () => stanza?.destroy());

  it('pgbackrest verify finds every backup valid', async () => {
    const verify = await stanza.pgbackrest(['--output=text', '--verbose', 'verify']);
    for (const { label } of labels)
      expect(verify.stdout).toMatch(
        new RegExp(`backup: ${label}, status: valid, total files checked: (\\d+), total valid files: \\1`),
      );
    expect(verify.stdout).not.toMatch(/invalid: [1-9]|missing: [1-9]/);
  });

  it('pgbackrest info --output=json lists them with their types and references', async () => {
    const [info] = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as [
      { backup: { label: string; type: string; reference: string[] | null; error: boolean }[]; status: { code: number } },
    ];
    expect(info.status.code).toBe(0);
    expect(info.backup.map((backup) => ({ label: backup.label, type: backup.type }))).toEqual(labels);
    expect(info.backup[1]!.reference).toEqual([labels[0]!.label]);
    expect(info.backup[2]!.reference).toEqual([labels[0]!.label, labels[1]!.label]);
    for (const backup of info.backup) expect(backup.error).toBe(false);
  });

  it.each(['full', 'diff', 'incr'])('pgbackrest restores the %s backup into a cluster with the same data', async (type) => {
    const { label } = labels.find((entry) => entry.type === type)!;
    const target = tempDir('restore');
    const data = join(target, 'data');
    const tablespace = join(target, 'ts1');
    for (const dir of [data, tablespace]) {
      mkdirSync(dir, { mode: 0o700 });
      chownSync(dir, osUser().uid, osUser().gid);
    }
    await stanza.pgbackrest([`--set=${label}`, `--pg1-path=${data}`, `--tablespace-map=ts1=${tablespace}`, 'restore']);
    const restored = await PgCluster.adopt(data);
    try {
      await restored.start();
      await restored.waitForRecoveryEnd();
      // recovery replays the archive to its end: the state the source has now
      expect(await pgbenchState(restored)).toEqual(source);
      expect(await restored.value("SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'ts1'")).toBe(
        tablespace,
      );
    } finally {
      await restored.destroy();
      removeDir(target);
    }
  });
});
