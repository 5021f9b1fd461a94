import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadBackupInfo, saveBackupInfo, type BackupInfo } from '../../../engine/repo/info/backup-info.js';
import { PosixStorage } from '../../../engine/storage/posix/posix-storage.js';
import { osUser } from '../../harness/os-user.js';
import { TestStanza } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';
import { copyRepo, logLines, pgbackrestOn, pgkeepOn, readText, snapshot, tree, type RepoCopy } from './repo-copies.js';

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
  options: { source?: string; repos?: number; fails?: boolean } = {},
): Promise<Compared> {
  const source = options.source ?? base;
  const oracle = copyRepo(stanza, source, `${name}-pgbackrest`, global, options.repos);
  const ours = copyRepo(stanza, source, `${name}-pgkeep`, global, options.repos);
  const expire = ['--log-level-console=detail', 'expire', ...args];
  const oracleRun = await pgbackrestOn(oracle, expire, options.fails !== true);
  const ourRun = await pgkeepOn(ours, expire, options.fails !== true);
  expect(ourRun.code).toBe(oracleRun.code);
  for (const [index, oraclePath] of oracle.repoPaths.entries()) {
    const ourPath = ours.repoPaths[index]!;
    expect(tree(ourPath), `repo${index + 1} files`).toEqual(tree(oraclePath));
    for (const file of ['backup/main/backup.info', 'backup/main/backup.info.copy', 'archive/main/archive.info']) {
      expect(readText(ourPath, file), file).toBe(readText(oraclePath, file));
    }
    expect(readText(ourPath, 'archive/main/archive.info')).toBe(readText(source, 'archive/main/archive.info'));
  }
  const oracleLog = logLines(oracleRun, oracle);
  // pgkeep's error has a hint pgBackRest's has not
  const ourLog = logLines(ourRun, ours).filter((line) => !line.includes('HINT: take a new full backup first'));
  expect(ourLog).toEqual(oracleLog);
  return { oracle, ours, oracleLog, ourLog };
}

/** pgbackrest info and verify find on pgkeep's copy what they find on their own. */
async function checkWithPgbackrest({ oracle, ours }: Compared): Promise<void> {
  const info = async (copy: RepoCopy) =>
    (await pgbackrestOn(copy, ['--output=json', 'info'])).stdout.split(copy.repoPaths[0]!).join('<repo>');
  expect(await info(ours)).toBe(await info(oracle));
  const verify = async (copy: RepoCopy) => {
    const result = await pgbackrestOn(copy, ['--log-level-console=info', 'verify'], false);
    return { code: result.code, lines: logLines(result, copy) };
  };
  const ourVerify = await verify(ours);
  expect(ourVerify).toEqual(await verify(oracle));
  expect(ourVerify.code).toBe(0);
}

/** A copy of the base repository changed by `change` (on backup.info), for both tools to start from. */
async function variant(name: string, change: (repo: string, info: BackupInfo) => void): Promise<string> {
  const repo = join(tempDir(`expire-${name}`), 'repo');
  execFileSync('cp', ['-a', base, repo]);
  const storage = new PosixStorage({ basePath: repo });
  const info = (await loadBackupInfo(storage, 'backup/main/backup.info')).value;
  change(repo, info);
  await saveBackupInfo(storage, 'backup/main/backup.info', info);
  const user = osUser('postgres');
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, repo]);
  return repo;
}

const labelsOf = async (copy: RepoCopy, index = 0) => Object.keys(await backupLabels(copy.repoPaths[index]!));

describe('pgkeep expire against pgbackrest expire', () => {
  it('repo-retention-full=2 keeps the two newest full sets and the WAL from the oldest kept full', async () => {
    const result = await compare('full2', { 'repo1-retention-full': 2 });
    expect(await labelsOf(result.ours)).toEqual([L.f2, L.d2, L.i3, L.f3, L.i4]);
    expect(result.ourLog).toContain(`P00   INFO: repo1: expire full backup set ${[L.f1, L.i1, L.d1, L.i2].join(', ')}`);
    expect(result.ourLog.some((line) => line.includes('15-1 remove archive, start = 000000010000000000000001'))).toBe(true);
    await checkWithPgbackrest(result);
  });

  it('repo-retention-full=1 keeps the newest full set', async () => {
    const result = await compare('full1', { 'repo1-retention-full': 1 });
    expect(await labelsOf(result.ours)).toEqual([L.f3, L.i4]);
    await checkWithPgbackrest(result);
  });

  it('repo-retention-diff=1 expires older differential backups with their incrementals', async () => {
    const result = await compare('diff1', { 'repo1-retention-full': 3, 'repo1-retention-diff': 1 });
    expect(await labelsOf(result.ours)).toEqual([L.f1, L.i1, L.f2, L.f3, L.i4]);
    expect(result.ourLog).toContain(`P00   INFO: repo1: expire diff backup set ${L.d1}, ${L.i2}`);
    await checkWithPgbackrest(result);
  });

  it('repo-retention-diff=2 counts full backups as differential', async () => {
    const result = await compare('diff2', { 'repo1-retention-full': 3, 'repo1-retention-diff': 2 });
    expect(await labelsOf(result.ours)).toEqual([L.f1, L.i1, L.f2, L.d2, L.i3, L.f3, L.i4]);
    await checkWithPgbackrest(result);
  });

  it('repo-retention-archive=1 keeps the WAL of the newest full and only what older backups need', async () => {
    const result = await compare('archive1', { 'repo1-retention-full': 2, 'repo1-retention-archive': 1 });
    expect(result.ourLog.filter((line) => line.includes('archive retention on backup'))).toHaveLength(4);
    await checkWithPgbackrest(result);
  });

  it.each([
    ['diff', 2],
    ['diff', 4],
    ['incr', 3],
    ['incr', 1],
  ])('repo-retention-archive-type=%s with repo-retention-archive=%i', async (type, count) => {
    const result = await compare(`archive-${type}-${count}`, {
      'repo1-retention-full': 3,
      'repo1-retention-archive-type': type,
      'repo1-retention-archive': count,
    });
    expect(result.ourLog.some((line) => line.includes('remove archive, start'))).toBe(true);
    await checkWithPgbackrest(result);
  });

  it('repo-retention-archive-type=diff takes repo-retention-diff as archive retention', async () => {
    const result = await compare('archive-diff-default', {
      'repo1-retention-full': 3,
      'repo1-retention-diff': 2,
      'repo1-retention-archive-type': 'diff',
    });
    await checkWithPgbackrest(result);
  });

  it('too few backups of the archive retention type keep all WAL', async () => {
    const result = await compare('archive-too-few', { 'repo1-retention-full': 3, 'repo1-retention-archive': 4 });
    expect(result.ourLog.some((line) => line.includes('remove archive'))).toBe(false);
  });

  it('without any retention it warns and removes nothing, but still rewrites backup.info', async () => {
    const result = await compare('none', {});
    expect(result.ourLog[0]).toMatch(/^P00 {3}WARN: option 'repo1-retention-full' is not set/);
    expect(result.ourLog).toContain("P00   INFO: option 'repo1-retention-archive' is not set - archive logs will not be expired");
    expect(tree(result.ours.repoPaths[0]!)).toEqual(tree(base));
  });

  it('time-based full retention keeps the fulls newer than N days and the newest older one', async () => {
    const day = 86_400;
    const now = Math.floor(Date.now() / 1000);
    const source = await variant('time', (_repo, info) => {
      for (const entry of info.backups) {
        const age = entry.label.startsWith(L.f1.slice(0, 16)) ? 20 : entry.label.startsWith(L.f2.slice(0, 16)) ? 10 : 0;
        entry.timestampStart = now - age * day - 60;
        entry.timestampStop = now - age * day - 30;
      }
    });
    const five = await compare('time5', { 'repo1-retention-full-type': 'time', 'repo1-retention-full': 5 }, [], { source });
    expect(await labelsOf(five.ours)).toEqual([L.f2, L.d2, L.i3, L.f3, L.i4]);
    expect(five.ourLog).toContain(`P00   INFO: repo1: expire time-based backup set ${[L.f1, L.i1, L.d1, L.i2].join(', ')}`);
    await checkWithPgbackrest(five);
    const fifteen = await compare('time15', { 'repo1-retention-full-type': 'time', 'repo1-retention-full': 15 }, [], { source });
    expect(await labelsOf(fifteen.ours)).toHaveLength(9);
    expect(fifteen.ourLog).toContain(
      'P00   INFO: repo1: time-based archive retention not met - archive logs will not be expired',
    );
    await compare(
      'time-archive',
      {
        'repo1-retention-full-type': 'time',
        'repo1-retention-full': 5,
        'repo1-retention-archive': 1,
      },
      [],
      { source },
    );
  });

  it('repo-retention-history removes the history manifests of expired backups', async () => {
    const result = await compare('history', { 'repo1-retention-full': 2, 'repo1-retention-history': 0 });
    expect(result.ourLog.filter((line) => line.includes('remove expired backup history manifest'))).toHaveLength(4);
    await checkWithPgbackrest(result);
  });

  it('reconstructs backup.info: drops entries without a manifest, adds complete backups, removes the rest', async () => {
    const resumable = `${L.f3}_${L.i4.slice(17, 26)}235959I`;
    const source = await variant('reconstruct', (repo, info) => {
      info.backups = info.backups.filter((entry) => entry.label !== L.i4);
      rmSync(join(repo, 'backup/main', L.d2, 'backup.manifest'));
      execFileSync('cp', ['-a', join(repo, 'backup/main', L.i4), join(repo, 'backup/main', resumable)]);
      rmSync(join(repo, 'backup/main', resumable, 'backup.manifest'));
    });
    const result = await compare('reconstruct', { 'repo1-retention-full': 3 }, [], { source });
    expect(await labelsOf(result.ours)).toEqual([L.f1, L.i1, L.d1, L.i2, L.f2, L.f3, L.i4]);
    expect(result.ourLog).toContain(`P00   WARN: backup '${L.i4}' found in repository added to backup.info`);
    expect(existsSync(join(result.ours.repoPaths[0]!, 'backup/main', resumable))).toBe(false);
    await checkWithPgbackrest(result);

    // --set keeps a resumable backup that may continue the remaining set
    const adhoc = await compare('reconstruct-set', { 'repo1-retention-full': 3 }, [`--set=${L.i4}`], { source });
    expect(existsSync(join(adhoc.ours.repoPaths[0]!, 'backup/main', resumable))).toBe(true);
  });
});

describe('pgkeep expire --set against pgbackrest expire --set', () => {
  it('expires a differential backup with its incrementals', async () => {
    const result = await compare('set-diff', { 'repo1-retention-full': 9 }, [`--set=${L.d1}`]);
    expect(result.ourLog).toContain(`P00   INFO: repo1: expire adhoc backup set ${L.d1}, ${L.i2}`);
    await checkWithPgbackrest(result);
  });

  it('expires the latest backup with a warning and moves the latest link', async () => {
    const result = await compare('set-latest', { 'repo1-retention-full': 9 }, [`--set=${L.f3}`]);
    expect(result.ourLog.some((line) => line.startsWith(`P00   WARN: repo1: expiring latest backup ${L.i4}`))).toBe(true);
    expect(tree(result.ours.repoPaths[0]!).get('backup/main/latest')).toBe(`link -> ${L.i3}`);
    await checkWithPgbackrest(result);
  });

  it('warns about a backup that does not exist and expires nothing', async () => {
    const result = await compare('set-missing', { 'repo1-retention-full': 1 }, ['--set=20200101-000000F']);
    expect(result.ourLog.some((line) => line.startsWith('P00   WARN: backup 20200101-000000F does not exist'))).toBe(true);
    expect(await labelsOf(result.ours)).toHaveLength(9);
  });

  it('refuses to expire the only full backup', async () => {
    const source = await variant('only-full', (repo, info) => {
      const others = info.backups.filter((entry) => !entry.label.startsWith(L.f3.slice(0, 16)));
      for (const entry of others) rmSync(join(repo, 'backup/main', entry.label), { recursive: true });
      info.backups = info.backups.filter((entry) => !others.includes(entry));
    });
    const result = await compare('set-only-full', { 'repo1-retention-full': 9 }, [`--set=${L.f3}`], { source, fails: true });
    expect(result.ourLog).toContain(
      `P00  ERROR: [075]: repo1: full backup ${L.f3} cannot be expired until another full backup has been created on this repo`,
    );
  });
});

describe('several repositories', () => {
  it('expires each repository by its own retention', async () => {
    const result = await compare(
      'multi',
      { 'repo1-retention-full': 2, 'repo2-retention-full': 1, 'repo2-retention-archive': 1 },
      [],
      { repos: 2 },
    );
    expect(await labelsOf(result.ours, 0)).toEqual([L.f2, L.d2, L.i3, L.f3, L.i4]);
    expect(await labelsOf(result.ours, 1)).toEqual([L.f3, L.i4]);
  });

  it('--repo expires only that repository', async () => {
    const result = await compare('multi-one', { 'repo1-retention-full': 1, 'repo2-retention-full': 1 }, ['--repo=2'], {
      repos: 2,
    });
    expect(await labelsOf(result.ours, 0)).toHaveLength(9);
    expect(await labelsOf(result.ours, 1)).toEqual([L.f3, L.i4]);
  });
});

describe('pgkeep expire --dry-run', () => {
  it('changes nothing, and prints what the real run then removes', async () => {
    const copy = copyRepo(stanza, base, 'dry-run', { 'repo1-retention-full': 1, 'repo1-retention-history': 0 });
    const repo = copy.repoPaths[0]!;
    const before = snapshot(repo);
    const dry = await pgkeepOn(copy, ['--dry-run', 'expire']);
    expect(snapshot(repo)).toEqual(before);
    const printed = dry.stdout.trim().split('\n');
    expect(printed.every((line) => line.startsWith('[DRY-RUN] '))).toBe(true);
    expect(printed).toContain(`[DRY-RUN] repo1: remove expired backup ${L.f1}`);

    const json = JSON.parse((await pgkeepOn(copy, ['--dry-run', '--output=json', 'expire'])).stdout) as {
      dryRun: boolean;
      repos: { plan: { retained: string[]; removeBackups: string[] } }[];
    };
    expect(json.dryRun).toBe(true);
    expect(json.repos[0]!.plan.retained).toEqual([L.f3, L.i4]);
    expect(json.repos[0]!.plan.removeBackups).toHaveLength(7);
    expect(snapshot(repo)).toEqual(before);

    const real = await pgkeepOn(copy, ['--log-level-console=info', 'expire']);
    const logged = logLines(real, copy).map((line) => line.replace(/^P00 +INFO: /, '[DRY-RUN] '));
    expect(logged).toEqual(printed.map((line) => line.split(repo).join('<repo1>')));
    expect(await labelsOf(copy)).toEqual([L.f3, L.i4]);
  });

  it('logs what pgbackrest --dry-run logs', async () => {
    const result = await compare('dry-run-oracle', { 'repo1-retention-full': 2, 'repo1-retention-archive': 1 }, ['--dry-run']);
    expect(result.ourLog.every((line) => /^P00 +[A-Z]+: \[DRY-RUN\] /.test(line))).toBe(true);
    expect(tree(result.ours.repoPaths[0]!)).toEqual(tree(base));
  });
});
