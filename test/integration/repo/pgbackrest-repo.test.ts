import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  archiveRange,
  parseStoredSegmentName,
  segmentLookupRegex,
  WAL_SEGMENT_DIR_REGEX,
} from '../../../engine/repo/archive/archive-path.js';
import { findLatestBackupLabel, formatBackupLabel, nextBackupLabel } from '../../../engine/repo/backup/label.js';
import { loadArchiveInfo, newArchiveInfo, renderArchiveInfo, saveArchiveInfo } from '../../../engine/repo/info/archive-info.js';
import {
  addBackup,
  backupInfoEntryFromManifest,
  findBackup,
  loadBackupInfo,
  newBackupInfo,
  renderBackupInfo,
  saveBackupInfo,
} from '../../../engine/repo/info/backup-info.js';
import { renderInfoText } from '../../../engine/command/info/info-text.js';
import { buildInfoJson, renderInfoJson } from '../../../engine/repo/info-json.js';
import { manifestFileRepoPath, validateManifestPaths } from '../../../engine/repo/manifest/manifest-paths.js';
import { loadManifestFile, renderManifest, saveManifestFile, type Manifest } from '../../../engine/repo/manifest/manifest.js';
import { PosixStorage } from '../../../engine/storage/posix/posix-storage.js';
import { PgCluster } from '../../harness/pg-cluster.js';
import { osUser } from '../../harness/os-user.js';
import { pgkeepBin } from '../../harness/stanza.js';
import { run } from '../../harness/run.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

/**
 * pgbackrest 2.45 is the oracle: it writes a real repository (stanza, full and incremental backup,
 * archived WAL, a tablespace); pgkeep's codecs must read every file and render it back byte for
 * byte, compute what pgbackrest computed, and write files pgbackrest accepts.
 */
let cluster: PgCluster;
let work: string;
let repoPath: string;
let conf: string;
let storage: PosixStorage;
const labels: string[] = [];

function pgbackrest(args: string[], check = true) {
  return run('pgbackrest', [`--config=${conf}`, ...args], { user: 'postgres', cwd: work, check, timeoutMs: 120_000 });
}

/** pgkeep writes as root here: give the files to postgres so pgbackrest can read them. */
function chownToPostgres(path: string): void {
  const user = osUser('postgres');
  spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, path]);
}

beforeAll(async () => {
  work = tempDir('repo-oracle');
  repoPath = join(work, 'repo');
  for (const dir of ['repo', 'log', 'lock']) mkdirSync(join(work, dir), { mode: 0o750 });
  chownToPostgres(work);
  cluster = await PgCluster.create();
  conf = join(work, 'pgbackrest.conf');
  writeFileSync(
    conf,
    `[global]\nrepo1-path=${repoPath}\nlog-path=${join(work, 'log')}\nlock-path=${join(work, 'lock')}\ncompress-type=lz4\nstart-fast=y\n` +
      `log-level-console=warn\nlog-level-file=off\n\n[demo]\npg1-path=${cluster.dataDir}\npg1-socket-path=${cluster.socketDir}\npg1-port=${cluster.port}\n`,
  );
  chownToPostgres(conf);
  cluster.configure({ archive_mode: 'on', archive_command: `'pgbackrest --config=${conf} --stanza=demo archive-push %p'` });
  await cluster.start();
  await cluster.createTablespace('ts1');
  await cluster.query('CREATE TABLE t_ts (id int, payload text) TABLESPACE ts1');
  await cluster.query("INSERT INTO t_ts SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g");
  await cluster.query('CREATE UNLOGGED TABLE t_unlogged (id int)');

  await pgbackrest(['--stanza=demo', 'stanza-create']);
  await pgbackrest(['--stanza=demo', '--type=full', 'backup']);
  await cluster.query("INSERT INTO t_ts SELECT g, repeat('y', 100) FROM generate_series(1, 1000) g");
  await pgbackrest(['--stanza=demo', '--type=incr', 'backup']);
  labels.push(
    ...readdirSync(join(repoPath, 'backup', 'demo'))
      .filter((name) => /^\d{8}-\d{6}F/.test(name))
      .sort(),
  );
  storage = new PosixStorage({ basePath: repoPath });
}, 180_000);

afterAll(async () => {
  await cluster?.destroy();
  if (work !== undefined) removeDir(work);
});

const text = (path: string) => readFileSync(join(repoPath, path), 'utf8');

async function manifests(): Promise<Manifest[]> {
  return Promise.all(
    labels.map(async (label) => (await loadManifestFile(storage, `backup/demo/${label}/backup.manifest`)).value),
  );
}

describe('a repository written by pgbackrest 2.45', () => {
  it('has a full and an incremental backup', () => {
    expect(labels).toHaveLength(2);
    expect(labels[1]!.startsWith(`${labels[0]!}_`)).toBe(true);
    expect(labels[1]!.endsWith('I')).toBe(true);
  });

  it('reads archive.info, backup.info and the manifests, and renders each back byte for byte', async () => {
    const archiveInfo = await loadArchiveInfo(storage, 'archive/demo/archive.info');
    expect(archiveInfo.file).toBe(storage.resolve('archive/demo/archive.info'));
    expect(renderArchiveInfo(archiveInfo.value)).toBe(text('archive/demo/archive.info'));
    expect(text('archive/demo/archive.info.copy')).toBe(text('archive/demo/archive.info'));

    const backupInfo = await loadBackupInfo(storage, 'backup/demo/backup.info');
    expect(renderBackupInfo(backupInfo.value)).toBe(text('backup/demo/backup.info'));
    expect(backupInfo.value.backups.map((entry) => entry.label)).toEqual(labels);

    const systemId = BigInt(String(await cluster.value('SELECT system_identifier FROM pg_control_system()')));
    expect(archiveInfo.value.history).toEqual([{ id: 1, systemId, version: '15' }]);

    for (const [index, manifest] of (await manifests()).entries()) {
      const path = `backup/demo/${labels[index]!}/backup.manifest`;
      expect(renderManifest(manifest) === text(path), path).toBe(true);
      expect(text(`${path}.copy`)).toBe(text(path));
      expect(
        manifest.targets.get('pg_tblspc/16384') ??
          [...manifest.targets.values()].find((target) => target.tablespaceName === 'ts1'),
      ).toBeDefined();
    }
  });

  it('computes the backup.info entries from the manifests exactly as pgbackrest did', async () => {
    const backupInfo = (await loadBackupInfo(storage, 'backup/demo/backup.info')).value;
    for (const manifest of await manifests()) {
      expect(backupInfoEntryFromManifest(manifest)).toEqual(findBackup(backupInfo, manifest.backup.label));
    }
  });

  it('accepts every manifest path and finds every stored file where manifestFileRepoPath says', async () => {
    let checked = 0;
    for (const manifest of await manifests()) {
      validateManifestPaths(manifest);
      for (const file of manifest.files.values()) {
        expect(existsSync(join(repoPath, 'backup', 'demo', manifestFileRepoPath(manifest, file))), file.name).toBe(true);
        checked++;
      }
      // The unlogged table's main fork is not backed up, its init fork is
      const names = [...manifest.files.keys()];
      expect(names.some((name) => /_init$/.test(name))).toBe(true);
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('parses every archived WAL name and finds each segment with the lookup expression', async () => {
    const archiveDir = join(repoPath, 'archive', 'demo', '15-1');
    const listing = new Map<string, string[]>();
    for (const dir of readdirSync(archiveDir).filter((name) => WAL_SEGMENT_DIR_REGEX.test(name))) {
      const names = readdirSync(join(archiveDir, dir));
      listing.set(dir, names);
      for (const name of names) {
        if (name.endsWith('.backup')) continue;
        const stored = parseStoredSegmentName(name);
        expect(stored, name).toBeDefined();
        expect(stored!.compressType).toBe('lz4');
        expect(names.filter((other) => segmentLookupRegex(stored!.segment).test(other))).toEqual([name]);
      }
    }
    const range = archiveRange(listing);
    expect(range.min).toMatch(/^[0-9A-F]{24}$/);
    expect(range.max! >= range.min!).toBe(true);
  });

  it('builds the same info JSON and text as pgbackrest info', async () => {
    const backupInfo = (await loadBackupInfo(storage, 'backup/demo/backup.info')).value;
    const archiveInfo = (await loadArchiveInfo(storage, 'archive/demo/archive.info')).value;
    const listing = new Map<string, string[]>();
    for (const entry of await storage.list('archive/demo/15-1')) {
      if (WAL_SEGMENT_DIR_REGEX.test(entry.name))
        listing.set(
          entry.name,
          (await storage.list(`archive/demo/15-1/${entry.name}`)).map((file) => file.name),
        );
    }
    const stanzas = buildInfoJson([
      {
        name: 'demo',
        repos: [
          {
            key: 1,
            cipher: 'none',
            state: { kind: 'ok', backupInfo, archiveInfo, archiveRanges: new Map([['15-1', archiveRange(listing)]]) },
          },
        ],
      },
    ]);
    const theirs = (await pgbackrest(['--stanza=demo', '--output=json', 'info'])).stdout.trim();
    expect(renderInfoJson(stanzas)).toBe(theirs);
    // And the text, line for line (both print local times: the same process environment).
    const text = (await pgbackrest(['--stanza=demo', 'info'])).stdout;
    expect(renderInfoText(stanzas.map((json) => ({ json, backupLock: undefined })))).toBe(text);
  });

  it('shows a second repository without the stanza as pgbackrest info does, in text and JSON', async () => {
    const empty = join(work, 'repo-empty');
    mkdirSync(empty, { mode: 0o750 });
    chownToPostgres(empty);
    const twoRepos = join(work, 'two-repos.conf');
    writeFileSync(twoRepos, readFileSync(conf, 'utf8').replace('[global]\n', `[global]\nrepo2-path=${empty}\n`));
    chownToPostgres(twoRepos);
    const both = async (args: string[]) => {
      const options = { user: 'postgres', cwd: work, timeoutMs: 60_000 } as const;
      const all = [`--config=${twoRepos}`, '--stanza=demo', ...args, 'info'];
      return [(await run(pgkeepBin(), all, options)).stdout, (await run('pgbackrest', all, options)).stdout];
    };
    const [ours, theirs] = await both([]);
    expect(ours).toContain('    status: mixed\n        repo1: ok\n        repo2: error (missing stanza path)\n');
    expect(ours).toBe(theirs);
    const [oursJson, theirsJson] = await both(['--output=json']);
    expect(JSON.parse(oursJson!)).toEqual(JSON.parse(theirsJson!));
  });

  it('formats the labels pgbackrest made from their start time, and picks later ones', async () => {
    const backupInfo = (await loadBackupInfo(storage, 'backup/demo/backup.info')).value;
    for (const entry of backupInfo.backups) {
      expect(formatBackupLabel(entry.type, entry.prior, entry.timestampStart)).toBe(entry.label);
    }
    const latest = await findLatestBackupLabel(storage, 'backup/demo');
    expect(latest).toBe(labels[1]);
    expect(nextBackupLabel('full', undefined, new Date(), latest) > latest!).toBe(true);
    expect(() => nextBackupLabel('full', undefined, Math.floor(Date.now() / 1000) - 86_400, latest)).toThrow(
      /is not later than latest backup label/,
    );
  });
});

describe('files written by pgkeep', () => {
  it('are accepted by pgbackrest: an annotated manifest and backup.info pass info and verify', async () => {
    const label = labels[1]!;
    const manifest = (await loadManifestFile(storage, `backup/demo/${label}/backup.manifest`)).value;
    manifest.annotation = { source: 'pgkeep' };
    await saveManifestFile(storage, `backup/demo/${label}/backup.manifest`, manifest);
    const backupInfo = (await loadBackupInfo(storage, 'backup/demo/backup.info')).value;
    addBackup(backupInfo, backupInfoEntryFromManifest(manifest));
    await saveBackupInfo(storage, 'backup/demo/backup.info', backupInfo);
    chownToPostgres(repoPath);

    const info = JSON.parse((await pgbackrest(['--stanza=demo', `--set=${label}`, '--output=json', 'info'])).stdout) as {
      backup: { annotation?: Record<string, string>; label: string; 'database-ref': { name: string }[] }[];
      status: { code: number };
    }[];
    expect(info[0]!.status.code).toBe(0);
    expect(info[0]!.backup[0]).toMatchObject({ label, annotation: { source: 'pgkeep' } });
    expect(info[0]!.backup[0]!['database-ref']).toEqual([{ name: 'postgres', oid: 5 }]);

    const verify = await pgbackrest(['--stanza=demo', '--verbose', '--output=text', 'verify'], false);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    for (const backup of labels)
      expect(verify.stdout).toMatch(
        new RegExp(`backup: ${backup}, status: valid, total files checked: \\d+, total valid files: \\d+`),
      );
    expect(verify.stdout).toMatch(/^stanza: demo\nstatus: ok\n/);
    expect(verify.stdout).not.toMatch(/(missing|invalid|other): [1-9]|ERROR|WARN/);
  });

  it('are accepted by pgbackrest: a stanza created by pgkeep', async () => {
    const systemId = BigInt(String(await cluster.value('SELECT system_identifier FROM pg_control_system()')));
    await saveArchiveInfo(storage, 'archive/other/archive.info', newArchiveInfo(systemId, '15'));
    await saveBackupInfo(
      storage,
      'backup/other/backup.info',
      newBackupInfo({ systemId, version: '15', catalogVersion: 202209061, controlVersion: 1300 }),
    );
    chownToPostgres(repoPath);
    const info = JSON.parse((await pgbackrest(['--stanza=other', '--output=json', 'info'])).stdout) as {
      db: { 'system-id': number; version: string }[];
      status: { code: number; message: string };
    }[];
    expect(info[0]!.status).toMatchObject({ code: 2, message: 'no valid backups' });
    expect(info[0]!.db).toHaveLength(1);
    expect(info[0]!.db[0]!.version).toBe('15');
    // The system id is beyond 2^53: compare it as text
    const raw = (await pgbackrest(['--stanza=other', '--output=json', 'info'])).stdout;
    expect(raw).toContain(`"system-id":${systemId}`);
  });
});
