import { rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { parseCommandLine } from '../../../../engine/config/command-line.js';
import { resolveConfig } from '../../../../engine/config/resolve.js';
import { stanzaSummarySchema } from '../../../../engine/service/api.js';
import { stanzaSummary } from '../../../../engine/service/stanza-summary.js';
import { DiskRepo, writeConfig, type DiskRepoContent } from '../command/expire/disk-repo.js';
import { entry, stored } from '../command/expire/fixtures.js';

/** What the dashboard says about stanza 'main' of a repository on disk (no database to ask: pg1-path does not exist). */
const NOW = 2_000_000_000;
const HOUR = 3600;
const repos: DiskRepo[] = [];

async function summaryOf(repo: DiskRepo, now = NOW) {
  const configPath = writeConfig([repo]);
  try {
    const config = resolveConfig({
      command: 'check',
      commandLine: parseCommandLine([`--config=${configPath}`, '--stanza=main', 'check']),
      env: {},
    });
    // The service sends the summary over its API: it must fit the schema the renderer checks.
    return stanzaSummarySchema.parse(await stanzaSummary(config, { overdueHours: 26, now }));
  } finally {
    rmSync(dirname(configPath), { recursive: true, force: true });
  }
}

async function diskRepo(content: DiskRepoContent): Promise<DiskRepo> {
  const repo = await DiskRepo.create(content);
  repos.push(repo);
  return repo;
}

afterEach(() => {
  for (const repo of repos.splice(0)) repo.destroy();
});

describe('stanzaSummary', () => {
  it('a stanza with backups and WAL: its backups, WAL range, size and recoverable window, and no problem', async () => {
    const wal = stored(1, 0, 1, 4);
    const repo = await diskRepo({
      backups: [
        entry('20330518-010000F', { start: 1, timestampStop: NOW - 30 * HOUR }),
        entry('20330518-010000F_20330518-020000I', { start: 3, timestampStop: NOW - 2 * HOUR }),
      ],
      archive: { '15-1': wal },
    });
    // The newest WAL file arrived an hour ago: recovery reaches up to then, past the last backup.
    const newest = join(repo.root, 'archive/main/15-1', wal[3]!.slice(0, 16), wal[3]!);
    writeFileSync(newest, 'x'.repeat(1000));
    utimesSync(newest, NOW - HOUR, NOW - HOUR);

    const summary = await summaryOf(repo);
    expect(summary).toMatchObject({
      name: 'main',
      repoPath: repo.root,
      pgPath: '/nonexistent',
      status: { code: 0, message: 'ok' },
      database: { version: '15', systemId: '7710482956265128591' },
      archive: { archiveId: '15-1', minWal: wal[0]!.slice(0, 24), maxWal: wal[3]!.slice(0, 24), lastArchivedTime: NOW - HOUR },
      recoverable: { from: NOW - 30 * HOUR, to: NOW - HOUR },
      health: 'ok',
      problems: [],
      runningJobId: null,
    });
    // The database cannot be asked here: no archiver statistics, and no problem made of that.
    expect(summary.archive.archiver).toBeNull();
    expect(summary.backups.map((backup) => [backup.label, backup.type, backup.prior, backup.references])).toEqual([
      ['20330518-010000F', 'full', null, []],
      ['20330518-010000F_20330518-020000I', 'incr', '20330518-010000F', ['20330518-010000F']],
    ]);
    // Every file of the stanza counts: the info files, the backups' files and the WAL.
    expect(summary.repoSize).toBe(sizeOfFiles(repo));
    expect(summary.repoSize).toBeGreaterThan(1000);
  });

  it('a stanza without backups is a warning', async () => {
    const summary = await summaryOf(await diskRepo({ backups: [] }));
    expect(summary.status).toEqual({ code: 2, message: 'no valid backups' });
    expect(summary.health).toBe('warning');
    expect(summary.problems).toEqual([
      { kind: 'no-backup', severity: 'warning', message: 'there is no backup yet', hint: 'take a full backup now' },
    ]);
    expect(summary.recoverable).toBeNull();
    expect(summary.archive).toMatchObject({ archiveId: '15-1', minWal: null, maxWal: null, lastArchivedTime: null });
  });

  it('a last backup older than the overdue hours is a warning, and an error past three times that', async () => {
    const late = await summaryOf(await diskRepo({ backups: [entry('20330518-010000F', { timestampStop: NOW - 30 * HOUR })] }));
    expect(late.health).toBe('warning');
    expect(late.problems).toEqual([
      {
        kind: 'backup-overdue',
        severity: 'warning',
        message: 'the last backup finished 30 hours ago',
        hint: 'check the backup schedule (cron) on the repository host, or back up now',
      },
    ]);
    const stale = await summaryOf(await diskRepo({ backups: [entry('20330518-010000F', { timestampStop: NOW - 79 * HOUR })] }));
    expect(stale.health).toBe('error');
    expect(stale.problems.map((problem) => [problem.kind, problem.severity, problem.message])).toEqual([
      ['backup-overdue', 'error', 'the last backup finished 79 hours ago'],
    ]);
    // Without WAL, recovery reaches only the end of the last backup.
    expect(stale.recoverable).toEqual({ from: NOW - 79 * HOUR, to: NOW - 79 * HOUR });
  });

  it('a repository without the stanza is an error that says how to create it', async () => {
    const repo = await diskRepo({ backups: [] });
    rmSync(join(repo.root, 'backup'), { recursive: true });
    rmSync(join(repo.root, 'archive'), { recursive: true });
    const summary = await summaryOf(repo);
    expect(summary).toMatchObject({
      status: { code: 1, message: 'missing stanza path' },
      database: null,
      backups: [],
      repoSize: 0,
      recoverable: null,
      health: 'error',
      archive: { archiveId: null, minWal: null, maxWal: null, lastArchivedTime: null, archiver: null },
    });
    expect(summary.problems).toEqual([
      {
        kind: 'repository',
        severity: 'error',
        message: "the repository of stanza 'main' cannot be read: missing stanza path",
        hint: "create it with 'pgkeep stanza-create --stanza=main'",
      },
    ]);
  });

  it('a stanza whose info files are gone says how to create it; one whose info file is damaged points at the repository', async () => {
    const noData = await diskRepo({ backups: [] });
    for (const name of ['backup/main/backup.info', 'archive/main/archive.info']) {
      rmSync(join(noData.root, name));
      rmSync(join(noData.root, `${name}.copy`));
    }
    const missing = await summaryOf(noData);
    expect(missing.status).toEqual({ code: 3, message: 'missing stanza data' });
    expect(missing.problems.map((problem) => problem.hint)).toEqual(["create it with 'pgkeep stanza-create --stanza=main'"]);

    const damaged = await diskRepo({ backups: [] });
    for (const name of ['backup/main/backup.info', 'backup/main/backup.info.copy'])
      writeFileSync(join(damaged.root, name), '[backrest]\nbackrest-format=5\n');
    const unreadable = await summaryOf(damaged);
    expect(unreadable.status).toEqual({ code: 99, message: 'other' });
    expect(unreadable.health).toBe('error');
    expect(unreadable.problems).toHaveLength(1);
    expect(unreadable.problems[0]).toMatchObject({
      kind: 'repository',
      severity: 'error',
      hint: 'check repo1-path and the permissions of the repository',
    });
    expect(unreadable.problems[0]!.message).toMatch(
      /^the repository of stanza 'main' cannot be read: \[ChecksumError\] unable to load info file '.*\/backup\.info' or '.*\/backup\.info\.copy'/,
    );
  });
});

/** Bytes of every file under the stanza's archive and backup directories. */
function sizeOfFiles(repo: DiskRepo): number {
  let total = 0;
  for (const base of ['archive/main', 'backup/main']) {
    for (const path of repo.list(base)) {
      const stats = statSync(join(repo.root, base, path));
      if (stats.isFile()) total += stats.size;
    }
  }
  return total;
}
