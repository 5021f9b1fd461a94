import { existsSync, readlinkSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { expireRepos, expireStanza } from '../../../../../engine/command/expire/expire.js';
import { runCommand } from '../../../../../engine/command/run.js';
import { PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import { log } from '../../../../../engine/log/logger.js';
import { findBackup, loadBackupInfo } from '../../../../../engine/repo/info/backup-info.js';
import { parseManifest, renderManifest } from '../../../../../engine/repo/manifest/manifest.js';
import { exampleText } from '../../repo/examples.js';
import { DiskRepo, expireConfig, writeConfig } from './disk-repo.js';
import { ALL, entry, F1, F1_D1, F1_I1, F1_I2, F2, F2_D2, F3, seg, series, stored } from './fixtures.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

async function repoWith(content: Parameters<typeof DiskRepo.create>[0] = { backups: series() }): Promise<DiskRepo> {
  const repo = await DiskRepo.create({ archive: { '15-1': stored(1, 0, 1, 0x10) }, ...content });
  cleanup.push(() => repo.destroy());
  return repo;
}

function config(repos: DiskRepo[], global: Record<string, string | number>): string {
  const path = writeConfig(repos, global);
  cleanup.push(() => rmSync(dirname(path), { recursive: true, force: true }));
  return path;
}

async function expire(configPath: string, args: string[]): Promise<{ code: number; out: string; log: string; errors: string }> {
  let out = '';
  let logged = '';
  let errors = '';
  const code = await runCommand([`--config=${configPath}`, '--stanza=main', '--log-timestamp=n', 'expire', ...args], {
    env: {},
    uid: 1000,
    out: (text) => (out += text),
    sink: { stdout: (text) => (logged += text), stderr: (text) => (errors += text) },
  });
  return { code, out, log: logged, errors };
}

const labels = async (repo: DiskRepo) =>
  (await loadBackupInfo(repo.storage, 'backup/main/backup.info')).value.backups.map((item) => item.label);

describe('pgkeep expire', () => {
  it('--dry-run prints what would go and changes nothing', async () => {
    const repo = await repoWith();
    const before = repo.snapshot();
    const result = await expire(config([repo], { 'repo1-retention-full': 2 }), ['--dry-run']);
    expect(result.code).toBe(0);
    expect(result.out.split('\n')).toEqual([
      `[DRY-RUN] repo1: expire full backup set ${F1}, ${F1_I1}, ${F1_D1}, ${F1_I2}`,
      `[DRY-RUN] repo1: remove expired backup ${F1_I2}`,
      `[DRY-RUN] repo1: remove expired backup ${F1_D1}`,
      `[DRY-RUN] repo1: remove expired backup ${F1_I1}`,
      `[DRY-RUN] repo1: remove expired backup ${F1}`,
      `[DRY-RUN] repo1: 15-1 remove archive, start = ${seg(1, 0, 1)}, stop = ${seg(1, 0, 9)}`,
      '',
    ]);
    expect(repo.snapshot()).toEqual(before);
  });

  it('--dry-run leaves the lines to the log when the console shows info lines', async () => {
    const repo = await repoWith();
    const result = await expire(config([repo], { 'repo1-retention-full': 2 }), ['--dry-run', '--log-level-console=info']);
    expect(result.out).toBe('');
    expect(result.log).toContain(`P00   INFO: [DRY-RUN] repo1: remove expired backup ${F1}\n`);
  });

  it('--dry-run marks the retention warnings too, as pgbackrest', async () => {
    const repo = await repoWith();
    const before = repo.snapshot();
    const result = await expire(config([repo], { 'repo1-retention-archive-type': 'diff' }), ['--dry-run']);
    expect(result.errors).toContain(
      "WARN: [DRY-RUN] option 'repo1-retention-full' is not set for 'repo1-retention-full-type=count', the repository may run out of space",
    );
    expect(result.errors).toContain(
      "WARN: [DRY-RUN] WAL segments will not be expired: option 'repo1-retention-archive-type=diff'",
    );
    expect(repo.snapshot()).toEqual(before);
  });

  it('removes expired backups and WAL, saving backup.info first', async () => {
    const repo = await repoWith();
    const result = await expire(config([repo], { 'repo1-retention-full': 1 }), ['--log-level-console=detail']);
    expect(result.code).toBe(0);
    expect(result.log).toContain(`P00   INFO: repo1: expire full backup set ${F2}, ${F2_D2}\n`);
    expect(await labels(repo)).toEqual([F3]);
    expect(repo.read('backup/main/backup.info.copy')).toBe(repo.read('backup/main/backup.info'));
    expect(repo.list('backup/main').filter((path) => !path.includes('/'))).toEqual([F3, 'backup.info', 'backup.info.copy']);
    expect(repo.list('archive/main/15-1/0000000100000000').map((name) => name.slice(0, 24))).toEqual(
      [0x0e, 0x0f, 0x10].map((n) => seg(1, 0, n)),
    );
  });

  it('--output=json prints the plan it carried out', async () => {
    const repo = await repoWith();
    const result = await expire(config([repo], { 'repo1-retention-full': 2, 'repo1-retention-archive': 1 }), ['--output=json']);
    const json = JSON.parse(result.out) as Record<string, unknown>;
    expect(json).toMatchObject({
      version: 1,
      stanza: 'main',
      dryRun: false,
      repos: [
        {
          repo: 1,
          error: null,
          plan: {
            set: null,
            expired: [{ reason: 'full', labels: [F1, F1_I1, F1_D1, F1_I2] }],
            latestExpired: null,
            retained: [F2, F2_D2, F3],
            removeBackups: [F1_I2, F1_D1, F1_I1, F1],
            archive: {
              status: 'planned',
              retention: 1,
              retentionType: 'full',
              archiveIds: [
                {
                  archiveId: '15-1',
                  action: 'expire',
                  retentionBackup: F3,
                  keep: [
                    { backup: F2, start: seg(1, 0, 0x0a), stop: seg(1, 0, 0x0a) },
                    { backup: F2_D2, start: seg(1, 0, 0x0c), stop: seg(1, 0, 0x0c) },
                    { backup: F3, start: seg(1, 0, 0x0e), stop: null },
                  ],
                  removeDirs: [],
                  removeHistory: [],
                },
              ],
            },
            history: { retentionDays: null, minLabel: null, removeYears: [], removeFiles: [] },
          },
        },
      ],
    });
    expect(await labels(repo)).toEqual([F2, F2_D2, F3]);
  });

  it('--set moves the latest link when it expires the latest backup', async () => {
    const repo = await repoWith();
    const result = await expire(config([repo], {}), [`--set=${F3}`]);
    expect(result.code).toBe(0);
    expect(result.errors).toContain(`WARN: repo1: expiring latest backup ${F3}`);
    expect(readlinkSync(repo.path('backup/main/latest'))).toBe(F2_D2);
    expect(await labels(repo)).toEqual(ALL.filter((label) => label !== F3));
  });

  it('--set keeps a resumable backup of another set, and removes one of the set it expires', async () => {
    const repo = await repoWith();
    const resumable = `${F3}_20260108-000000I`;
    const manifest = parseManifest(exampleText('full-lz4.backup.manifest'), 'example');
    Object.assign(manifest.backup, { label: resumable, type: 'incr', prior: F3, reference: [F3, resumable] });
    repo.write(`backup/main/${resumable}/backup.manifest.copy`, renderManifest(manifest));
    const path = config([repo], {});
    await expire(path, [`--set=${F2_D2}`]);
    expect(existsSync(repo.path(`backup/main/${resumable}`))).toBe(true);
    const result = await expire(path, [`--set=${F3}`, '--output=json']);
    expect(existsSync(repo.path(`backup/main/${resumable}`))).toBe(false);
    const json = JSON.parse(result.out) as { repos: { plan: { latestExpired: unknown; removeBackups: string[] } }[] };
    expect(json.repos[0]!.plan.latestExpired).toEqual({ label: F3, newLatest: F2 });
    expect(json.repos[0]!.plan.removeBackups).toEqual([resumable, F3]);
  });

  it('--set on a repository without backups warns that the backup does not exist', async () => {
    const repo = await repoWith({ backups: [] });
    const result = await expire(config([repo], { 'repo1-retention-full': 1 }), [`--set=${F1}`]);
    expect(result.code).toBe(0);
    expect(result.errors).toContain(`WARN: backup ${F1} does not exist`);
  });

  it('needs archive.info only when WAL is to be expired', async () => {
    const repo = await repoWith();
    rmSync(repo.path('archive/main/archive.info'));
    rmSync(repo.path('archive/main/archive.info.copy'));
    expect((await expire(config([repo], { 'repo1-retention-full': 9 }), [])).code).toBe(0);
    const result = await expire(config([repo], { 'repo1-retention-full': 1 }), ['--output=json']);
    expect(result.code).toBe(104);
    expect(result.errors).toContain('ERROR: [055]: repo1: unable to load info file');
    const json = JSON.parse(result.out) as { repos: { error: { code: number }; plan: { archive: unknown } }[] };
    expect(json.repos[0]!.error.code).toBe(55);
    expect(json.repos[0]!.plan.archive).toMatchObject({ status: 'error', error: { code: 55 }, archiveIds: [] });
    // the backups went before the WAL failed, as in pgBackRest
    expect(await labels(repo)).toEqual([F3]);
  });

  it('refuses a --set that is not a backup label', async () => {
    const repo = await repoWith();
    const result = await expire(config([repo], {}), ['--set=latest']);
    expect(result.code).toBe(32);
    expect(result.errors).toContain("'latest' is not a valid backup label format");
  });

  it('expires every repository, goes on after one fails, and fails at the end', async () => {
    const good = await repoWith();
    const broken = await repoWith();
    rmSync(broken.path('backup/main/backup.info'));
    rmSync(broken.path('backup/main/backup.info.copy'));
    const path = config([good, broken], { 'repo1-retention-full': 1, 'repo2-retention-full': 1 });
    const result = await expire(path, ['--output=json']);
    expect(result.code).toBe(104);
    expect(result.errors).toContain('ERROR: [055]: repo2: unable to load info file');
    expect(result.errors).toContain('ERROR: [104]: expire command encountered 1 error(s), check the log file for details');
    expect(await labels(good)).toEqual([F3]);
    const json = JSON.parse(result.out) as { repos: { error: { code: number } | null; plan: unknown }[] };
    expect(json.repos[1]!.error!.code).toBe(55);
    expect(json.repos[1]!.plan).toBeNull();
    await expect(expireStanza(expireConfig(path, ['--repo=2']))).rejects.toThrow('expire command encountered 1 error(s)');
    expect((await expireStanza(expireConfig(path, ['--repo=1']))).repos).toHaveLength(1);
  });

  it('stops between two removals when cancelled, after saving backup.info', async () => {
    const repo = await repoWith();
    const controller = new AbortController();
    controller.abort();
    const path = config([repo], { 'repo1-retention-full': 1 });
    const dry = await expireRepos(expireConfig(path), { dryRun: true, signal: controller.signal });
    expect(dry.repos[0]!.error).toBeUndefined();
    const result = await expireRepos(expireConfig(path), { signal: controller.signal });
    expect(result.repos[0]!.error).toBeInstanceOf(PgkeepError);
    expect(result.repos[0]!.error!.errorName).toBe('Term');
    expect(existsSync(repo.path(`backup/main/${F1}`))).toBe(true);
  });

  it('reconstructs backup.info from the backup directories, as pgBackRest does', async () => {
    const repo = await repoWith();
    const added = '20260108-000000F';
    const manifest = parseManifest(exampleText('full-lz4.backup.manifest'), 'example');
    manifest.backup.label = added;
    repo.write(`backup/main/${added}/backup.manifest`, renderManifest(manifest));
    const foreign = '20260109-000000F';
    manifest.backup.label = foreign;
    manifest.db.id = 7;
    repo.write(`backup/main/${foreign}/backup.manifest`, renderManifest(manifest));
    rmSync(repo.path(`backup/main/${F1_D1}/backup.manifest`));
    // a complete incremental whose prior is gone cannot come back either
    const orphan = parseManifest(exampleText('full-lz4.backup.manifest'), 'example');
    Object.assign(orphan.backup, { label: F1_I2, type: 'incr', prior: F1_D1, reference: [F1, F1_D1, F1_I2] });
    repo.write(`backup/main/${F1_I2}/backup.manifest`, renderManifest(orphan));
    const warnings: string[] = [];
    const unsubscribe = log.subscribe((record) => {
      if (record.level === 'warn') warnings.push(record.message);
    });
    try {
      const result = await expireRepos(expireConfig(config([repo], { 'repo1-retention-full': 9 })), {});
      expect(result.repos[0]!.error).toBeUndefined();
    } finally {
      unsubscribe();
    }
    expect(warnings).toEqual([
      `backup '${F1_I2}' missing manifest removed from backup.info`,
      `backup '${F1_D1}' missing manifest removed from backup.info`,
      `invalid backup '${F1_I2}' cannot be added to current backups`,
      `backup '${added}' found in repository added to backup.info`,
      `invalid backup '${foreign}' cannot be added to current backups`,
    ]);
    const info = (await loadBackupInfo(repo.storage, 'backup/main/backup.info')).value;
    expect(info.backups.map((item) => item.label)).toEqual([F1, F1_I1, F2, F2_D2, F3, added]);
    expect(findBackup(info, added)!.archiveStart).toBe(manifest.backup.archiveStart);
    expect(existsSync(repo.path(`backup/main/${foreign}`))).toBe(false);
    expect(existsSync(repo.path(`backup/main/${F1_I2}`))).toBe(false);
  });

  it('removes old archive ids, whole WAL directories, timeline history and backup history', async () => {
    const history = [
      { id: 1, version: '14' },
      { id: 2, version: '15' },
    ];
    const repo = await repoWith({
      backups: [
        entry(F1, { start: 2 }),
        entry(F2, { start: seg(2, 1, 3), dbId: 2 }),
        entry(F3, { start: seg(2, 1, 5), dbId: 2 }),
      ],
      history,
      archive: {
        '14-1': stored(1, 0, 1, 3),
        '15-2': [...stored(1, 0, 5, 6), ...stored(2, 0, 1, 2), ...stored(2, 1, 1, 6), '00000002.history', '00000001.history'],
      },
      historyManifests: { '2025': ['20250101-000000F.manifest.gz'], '2026': [`${F1}.manifest.gz`, `${F3}.manifest.gz`] },
    });
    const path = config([repo], { 'repo1-retention-full': 2, 'repo1-retention-history': 0 });
    const now = Date.UTC(2026, 5, 15, 12) / 1000;
    const result = await expireRepos(expireConfig(path), { now });
    expect(result.repos[0]!.error).toBeUndefined();
    expect(existsSync(repo.path('archive/main/14-1'))).toBe(false);
    expect(repo.list('archive/main/15-2')).toEqual([
      '00000002.history',
      '0000000200000001',
      ...stored(2, 1, 3, 6).map((name) => `0000000200000001/${name}`),
    ]);
    expect(repo.list('backup/main/backup.history')).toEqual(['2026', `2026/${F3}.manifest.gz`]);
    expect(result.repos[0]!.lines.map((line) => line.message)).toContain('repo1: 15-2 remove history file 00000001.history');
  });
});
