import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadBackupInfo, saveBackupInfo } from '../../../engine/repo/info/backup-info.js';
import { PosixStorage } from '../../../engine/storage/posix/posix-storage.js';
import { osUser } from '../../harness/os-user.js';
import { TestStanza } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';
import { copyRepo, logLines, pgbackrestOn, pgkeepOn, readText, snapshot, tree, type RepoCopy } from './expire-repo.js';

/**
 * pgbackrest 2.45 is the oracle for retention: a series of real backups (full, incr, diff, incr,
 * full, diff, incr, full, incr) with writes and WAL switches between them; for each retention
 * setting the repository is copied twice, `pgbackrest expire` runs on one copy and `pgkeep expire`
 * on the other, and the copies must end up the same: same files (backups, WAL, history
 * manifests), byte-identical backup.info (which expire rewrites) and archive.info (which it does
 * not), the same log lines; and pgbackrest's info and verify see the same on both.
 */
let stanza: TestStanza;
let base: string;
const L: Record<'f1' | 'i1' | 'd1' | 'i2' | 'f2' | 'd2' | 'i3' | 'f3' | 'i4', string> = {} as never;

async function writeAndSwitch(rows: number): Promise<void> {
  await stanza.cluster.query(`INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, ${rows}) g`);
  await stanza.cluster.query('SELECT pg_switch_wal()');
  await stanza.cluster.query('INSERT INTO t VALUES (0, NULL)');
  await stanza.cluster.query('SELECT pg_switch_wal()');
}

beforeAll(async () => {
  stanza = await TestStanza.create({ archiver: 'pgbackrest', global: { 'repo1-retention-full': 9999 } });
  await stanza.pgbackrest(['stanza-create']);
  await stanza.cluster.query('CREATE TABLE t (id int, v text)');
  const labels: string[] = [];
  for (const type of ['full', 'incr', 'diff', 'incr', 'full', 'diff', 'incr', 'full', 'incr']) {
    await writeAndSwitch(2000);
    await stanza.pgbackrest([`--type=${type}`, 'backup']);
  }
  await stanza.pgbackrest(['check']);
  labels.push(...Object.keys(await backupLabels(stanza.repoPath)));
  (['f1', 'i1', 'd1', 'i2', 'f2', 'd2', 'i3', 'f3', 'i4'] as const).forEach((key, index) => (L[key] = labels[index]!));
  base = join(tempDir('expire-base'), 'repo');
  execFileSync('cp', ['-a', stanza.repoPath, base]);
}, 300_000);

afterAll(async () => stanza?.destroy());

async function backupLabels(repoPath: string): Promise<Record<string, string>> {
  const info = await loadBackupInfo(new PosixStorage({ basePath: repoPath }), 'backup/main/backup.info');
  return Object.fromEntries(info.value.backups.map((entry) => [entry.label, entry.type]));
}

interface Compared {
  readonly oracle: RepoCopy;
  readonly ours: RepoCopy;
  readonly oracleLog: string[];
  readonly ourLog: string[];
}

/** Expires two copies, one with each tool, and checks they end up the same. */
async function compare(
  name: string,
  global: Record<string, string | number>,
  args: string[] = [],
  options: { source?: string; repos?: number } = {},
): Promise<Compared> {
  const source = options.source ?? base;
  const oracle = copyRepo(stanza, source, `${name}-pgbackrest`, global, options.repos);
  const ours = copyRepo(stanza, source, `${name}-pgkeep`, global, options.repos);
  const expire = ['--log-level-console=detail', 'expire', ...args];
  const oracleRun = await pgbackrestOn(oracle, expire);
  const ourRun = await pgkeepOn(ours, expire);
  for (const [index, oraclePath] of oracle.repoPaths.entries()) {
    const ourPath = ours.repoPaths[index]!;
    expect(tree(ourPath), `repo${index + 1} files`).toEqual(tree(oraclePath));
    for (const file of ['backup/main/backup.info', 'backup/main/backup.info.copy', 'archive/main/archive.info']) {
      expect(readText(ourPath, file), file).toBe(readText(oraclePath, file));
    }
    expect(readText(ourPath, 'archive/main/archive.info')).toBe(readText(source, 'archive/main/archive.info'));
  }
  const oracleLog = logLines(oracleRun, oracle);
  const ourLog = logLines(ourRun, ours);
  expect(ourLog).toEqual(oracleLog);
  return { oracle, ours, oracleLog, ourLog };
}

/** pgbackrest info and verify find on pgkeep's copy what they find on their own. */
async function checkWithPgbackrest({ oracle, ours }: Compared): Promise<void> {
  const info = async (copy: RepoCopy) => (await pgbackrestOn(copy, ['--output=json', 'info'])).stdout.split(copy.repoPaths[0]!).join('<repo>');
  expect(await info(ours)).toBe(await info(oracle));
  const verify = async (copy: RepoCopy) => {
    const result = await pgbackrestOn(copy, ['--log-level-console=info', 'verify'], false);
    return { code: result.code, lines: logLines(result, copy) };
  };
  const ourVerify = await verify(ours);
  expect(ourVerify).toEqual(await verify(oracle));
  expect(ourVerify.code).toBe(0);
}

describe('expire by count', () => {
  it('keeps the newest full backups (repo-retention-full=2) and the WAL from the oldest kept', async () => {
    const result = await compare('full2', { 'repo1-retention-full': 2 });
    expect(Object.keys(await backupLabels(result.ours.repoPaths[0]!))).toEqual([L.f2, L.d2, L.i3, L.f3, L.i4]);
    expect(result.ourLog).toContain(`P00   INFO: repo1: expire full backup set ${[L.f1, L.i1, L.d1, L.i2].join(', ')}`);
    await checkWithPgbackrest(result);
  });
});
