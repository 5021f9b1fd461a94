import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildManifest, type BuildManifestOptions } from '../../../engine/command/backup/manifest-build/build-manifest.js';
import { pageChecksumSegment } from '../../../engine/command/backup/manifest-build/relation-files.js';
import { isPgkeepError } from '../../../engine/error/pgkeep-error.js';
import { log } from '../../../engine/log/logger.js';
import { pgVersionByString, tablespaceDirectoryName } from '../../../engine/postgres/version-table.js';
import type { Manifest } from '../../../engine/repo/manifest/manifest.js';
import { osUser } from '../../harness/os-user.js';
import { TestStanza } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';
import { latestManifest, view } from './manifest-view.js';

/**
 * pgbackrest 2.45 is the oracle: it backs up a real PostgreSQL 15 cluster holding everything the
 * exclusion rules are about (a tablespace, unlogged and temporary tables, directory, file and
 * relative links, special files, pgsql_tmp, files in the emptied directories, excluded root files,
 * owners and modes off the defaults, --exclude), and buildManifest must list what its
 * backup.manifest lists. Stopped, the data directory does not change between the two walks, so the
 * offline comparison is exact; the online one is exact for what PostgreSQL is not writing.
 */

const EXCLUDES = ['extra/sub/', 'excluded.txt'];
const pgVersion = pgVersionByString('15');

let stanza: TestStanza;
let dataDir: string;
let outside: string;
let dbOid: number;
let session: pg.Client | undefined;
let socketServer: Server | undefined;

function asPostgres(path: string): void {
  const user = osUser('postgres');
  chownSync(path, user.uid, user.gid);
}

function writeAsPostgres(path: string, content: string | Buffer, mode = 0o600): void {
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  asPostgres(path);
}

function mkdirAsPostgres(path: string, mode = 0o700): void {
  mkdirSync(path, { mode });
  chmodSync(path, mode);
  asPostgres(path);
}

/** Offline, pgbackrest checks pages only when told to (its default is off then): tell it, to compare which files. */
function backupArgs(online: boolean): string[] {
  return [
    'backup',
    '--type=full',
    ...EXCLUDES.map((exclude) => `--exclude=${exclude}`),
    ...(online ? [] : ['--no-online', '--checksum-page']),
  ];
}

function options(online: boolean, tablespaces?: BuildManifestOptions['tablespaces']): BuildManifestOptions {
  return { pgPath: dataDir, pgVersion, catalogVersion: pgVersion.catalogVersion, online, tablespaces, exclude: EXCLUDES };
}

/** Runs buildManifest and returns its result with the warnings it logged. */
async function walk(buildOptions: BuildManifestOptions) {
  const warnings: string[] = [];
  const stop = log.subscribe((record) => {
    if (record.level === 'warn') warnings.push(record.message);
  });
  try {
    return { manifest: await buildManifest(buildOptions), warnings };
  } finally {
    stop();
  }
}

/** Files pgbackrest checked pages of must be exactly those pageChecksumSegment picks. */
function expectSamePageChecks(oracle: Manifest): void {
  const checked = [...oracle.files.values()].filter((file) => file.checksumPage !== undefined).map((file) => file.name);
  const picked = [...oracle.files.keys()].filter((name) => pageChecksumSegment(name) !== undefined);
  expect(picked).toEqual(checked);
  expect(checked.length).toBeGreaterThan(100);
}

beforeAll(async () => {
  stanza = await TestStanza.create({ archiver: 'pgbackrest' });
  const cluster = stanza.cluster;
  dataDir = cluster.dataDir;
  outside = tempDir('manifest-outside');

  // pg_wal moved out of the data directory and linked, as initdb --waldir does
  await cluster.stop();
  renameSync(join(dataDir, 'pg_wal'), join(outside, 'wal'));
  symlinkSync(join(outside, 'wal'), join(dataDir, 'pg_wal'));
  await cluster.start();
  await stanza.pgbackrest(['stanza-create']);

  // Relations: a tablespace with a table and an unlogged table, an unlogged table in base, a temp table held open
  await cluster.createTablespace('ts1');
  await cluster.query('CREATE TABLE t_ts (id int) TABLESPACE ts1');
  await cluster.query('INSERT INTO t_ts SELECT generate_series(1, 2000)');
  await cluster.query('CREATE UNLOGGED TABLE t_unlogged_ts (id int) TABLESPACE ts1');
  await cluster.query('CREATE UNLOGGED TABLE t_unlogged AS SELECT generate_series(1, 5000) AS id');
  await cluster.query('CREATE INDEX ON t_unlogged (id)');
  await cluster.query('VACUUM t_unlogged');
  session = new pg.Client(cluster.connectionConfig());
  await session.connect();
  await session.query('CREATE TEMP TABLE t_temp AS SELECT generate_series(1, 1000) AS id');
  await cluster.query('CHECKPOINT');
  dbOid = Number(await cluster.value("SELECT oid FROM pg_database WHERE datname = 'postgres'"));
  const unlogged = String(await cluster.value("SELECT pg_relation_filenode('t_unlogged')"));
  const base = join(dataDir, 'base', String(dbOid));

  // A fake extra segment of the unlogged table, fake temp relations, a leftover relation cache file, a non-relation file
  writeAsPostgres(join(base, `${unlogged}.1`), '');
  writeAsPostgres(join(base, 't99_99999'), 'temp');
  writeAsPostgres(join(base, 't99_99999_fsm.1'), 'temp');
  writeAsPostgres(join(dataDir, 'global', 'pg_internal.init.4242'), 'cache');
  writeAsPostgres(join(base, 'junk.txt'), 'x'.repeat(100));

  // Temporary files anywhere
  mkdirAsPostgres(join(dataDir, 'base', 'pgsql_tmp'));
  writeAsPostgres(join(dataDir, 'base', 'pgsql_tmp', 'pgsql_tmp1234.0'), 'sort');
  writeAsPostgres(join(dataDir, 'pgsql_tmp_root'), 'tmp');

  // Contents of the emptied directories, root files never backed up, ones that are
  writeAsPostgres(join(dataDir, 'pg_stat_tmp', 'global.stat'), 'stat');
  writeAsPostgres(join(dataDir, 'pg_snapshots', '00000003-0000001B-1'), 'snap');
  for (const name of ['backup_label.old', 'backup_manifest', 'backup_manifest.tmp', 'postgresql.auto.conf.tmp']) {
    writeAsPostgres(join(dataDir, name), name);
  }
  writeAsPostgres(join(dataDir, 'recovery.signal'), '');
  writeAsPostgres(join(dataDir, 'excluded.txt'), 'excluded by --exclude');
  writeAsPostgres(join(dataDir, 'current_logfiles'), 'stderr log/postgresql.log\n');
  mkdirAsPostgres(join(dataDir, 'log'));
  writeAsPostgres(join(dataDir, 'log', 'postgresql.log'), 'log line\n');

  // Owners and modes off the defaults: root, an id without a name, group-readable
  writeFileSync(join(dataDir, 'root-owned.txt'), 'root', { mode: 0o644 });
  writeFileSync(join(dataDir, 'unmapped.txt'), 'nobody', { mode: 0o644 });
  chmodSync(join(dataDir, 'unmapped.txt'), 0o644);
  chownSync(join(dataDir, 'unmapped.txt'), 54321, 54321);
  mkdirAsPostgres(join(dataDir, 'open-dir'), 0o750);
  writeAsPostgres(join(dataDir, 'open-dir', 'open.txt'), 'open', 0o640);

  // Links: a directory outside (with a subdirectory left out by --exclude), a file, a relative one
  mkdirAsPostgres(join(outside, 'extra'));
  writeAsPostgres(join(outside, 'extra', 'data.txt'), 'extra data');
  mkdirAsPostgres(join(outside, 'extra', 'sub'));
  writeAsPostgres(join(outside, 'extra', 'sub', 'inner.txt'), 'excluded content');
  mkdirAsPostgres(join(outside, 'conf'));
  writeAsPostgres(join(outside, 'conf', 'linked.conf'), 'linked = 1\n', 0o640);
  symlinkSync(join(outside, 'extra'), join(dataDir, 'extra'));
  symlinkSync(join(outside, 'conf', 'linked.conf'), join(dataDir, 'linked.conf'));
  mkdirAsPostgres(join(cluster.root, 'relative'));
  writeAsPostgres(join(cluster.root, 'relative', 'r.txt'), 'relative');
  symlinkSync('../relative', join(dataDir, 'relative'));
  for (const link of ['extra', 'linked.conf', 'relative', 'pg_wal']) {
    spawnSync('chown', ['-h', `${osUser('postgres').uid}:${osUser('postgres').gid}`, join(dataDir, link)]);
  }

  // Special files: a FIFO and a socket
  spawnSync('mkfifo', ['-m', '0600', join(dataDir, 'fifo')]);
  socketServer = createServer();
  await new Promise<void>((resolve) => socketServer!.listen(join(dataDir, 'sock'), resolve));
}, 180_000);

afterAll(async () => {
  await session?.end().catch(() => undefined);
  await new Promise((resolve) => (socketServer === undefined ? resolve(undefined) : socketServer.close(resolve)));
  await stanza?.destroy();
});

describe('buildManifest against pgbackrest 2.45 on the same data directory', () => {
  it('online: the same targets, links, paths and files (but what PostgreSQL writes meanwhile)', async () => {
    const backup = await stanza.pgbackrest(backupArgs(true));
    const oracle = await latestManifest(stanza.repoPath, stanza.name);
    const tablespaces = (
      await stanza.cluster.query<{ oid: number; spcname: string }>('SELECT oid, spcname FROM pg_tablespace')
    ).map((row) => ({ oid: Number(row.oid), name: row.spcname }));
    const { manifest, warnings } = await walk(options(true, tablespaces));

    expect(oracle.db.catalogVersion).toBe(pgVersion.catalogVersion);
    const ours = view(manifest);
    const theirs = view(oracle, (name) => name === 'pg_data/backup_label' || name === 'pg_data/tablespace_map');
    expect(ours.targets).toEqual(theirs.targets);
    expect(ours.links).toEqual(theirs.links);
    expect(ours.paths).toEqual(theirs.paths);
    expect(Object.values(ours.targets).some((target) => (target as { tablespaceName?: string }).tablespaceName === 'ts1')).toBe(
      true,
    );
    // WAL comes from the archive: the linked pg_wal and its archive_status are recorded empty
    expect(Object.keys(ours.paths)).toEqual(expect.arrayContaining(['pg_data/pg_wal', 'pg_data/pg_wal/archive_status']));
    expect(Object.keys(ours.files).filter((name) => name.startsWith('pg_data/pg_wal/'))).toEqual([]);
    expect(ours.targets['pg_data/pg_wal']).toMatchObject({ type: 'link', path: join(outside, 'wal') });

    // PostgreSQL keeps writing these between the two walks: names may come and go there
    const drifting = /^pg_data\/(pg_xact|pg_multixact|pg_logical|pg_commit_ts|pg_stat)\//;
    const names = (files: Record<string, unknown>) => Object.keys(files).filter((name) => !drifting.test(name));
    expect(names(ours.files)).toEqual(names(theirs.files));
    let stable = 0;
    for (const [name, theirFile] of Object.entries(theirs.files)) {
      const ourFile = ours.files[name];
      if (ourFile === undefined) continue;
      expect({ name, user: ourFile.user, group: ourFile.group, mode: ourFile.mode }).toEqual({
        name,
        user: theirFile.user,
        group: theirFile.group,
        mode: theirFile.mode,
      });
      // Untouched since before the backup started: then pgbackrest copied exactly what we see
      if (ourFile.timestamp === theirFile.timestamp && theirFile.timestamp < oracle.backup.timestampStart) {
        expect({ name, size: ourFile.size }).toEqual({ name, size: theirFile.size });
        stable++;
      }
    }
    expect(stable).toBeGreaterThan(500);

    // The temporary table of the open session is on disk, and left out by both
    const tempFiles = Object.keys(theirs.files).filter((name) => /\/t[0-9]+_[0-9]+/.test(name));
    expect(tempFiles).toEqual([]);
    expectSamePageChecks(oracle);
    expect(oracle.files.get(`pg_data/base/${dbOid}/junk.txt`)?.checksumPage).toBe(false);

    const special = [
      `exclude special file '${join(dataDir, 'fifo')}' from backup`,
      `exclude special file '${join(dataDir, 'sock')}' from backup`,
    ];
    expect(warnings).toEqual(special);
    for (const line of special) expect(backup.stdout + backup.stderr).toContain(line);
  });

  it('offline, on the stopped cluster: exactly the same manifest content', async () => {
    await session!.end();
    session = undefined;
    await stanza.cluster.stop();
    await stanza.pgbackrest(backupArgs(false));
    const oracle = await latestManifest(stanza.repoPath, stanza.name);
    const { manifest } = await walk(options(false));

    expect(oracle.options.online).toBe(false);
    expect(view(manifest)).toEqual(view(oracle));
    // The save order is pgBackRest's: byte order of the names
    for (const map of ['targets', 'paths', 'links', 'files'] as const) {
      expect([...manifest[map].keys()], map).toEqual([...oracle[map].keys()]);
    }
    expectSamePageChecks(oracle);

    // Spot checks of what the comparison covers
    const files = manifest.files;
    expect([...files.keys()].some((name) => name.startsWith('pg_data/pg_wal/0000'))).toBe(true);
    expect(manifest.targets.get('pg_data/pg_wal')).toMatchObject({ type: 'link', path: join(outside, 'wal') });
    expect([...files.keys()].filter((name) => name.includes('pgsql_tmp') || name.includes('pg_internal.init'))).toEqual([]);
    expect(files.get('pg_data/unmapped.txt')).toMatchObject({ user: false, group: false, mode: 0o644 });
    expect(files.get('pg_data/root-owned.txt')).toMatchObject({ user: 'root', group: 'root' });
    expect(files.has('pg_data/extra/data.txt') && !files.has('pg_data/extra/sub/inner.txt')).toBe(true);
    expect(manifest.paths.has('pg_data/extra/sub')).toBe(true);
    expect(manifest.targets.get('pg_data/linked.conf')).toMatchObject({
      type: 'link',
      path: join(outside, 'conf'),
      file: 'linked.conf',
    });
    expect(manifest.targets.get('pg_data/relative')).toMatchObject({ type: 'link', path: '../relative' });
    expect([...manifest.targets.values()].find((target) => target.tablespaceId !== undefined)?.tablespaceName).toMatch(
      /^ts[0-9]+$/,
    );
  });

  describe('links pgbackrest refuses, refused with the same error code and message', () => {
    /** `exact: false`: pgkeep's message starts with pgbackrest's and says more. */
    const cases: { name: string; setup: () => void; cleanup: () => void; exact?: false }[] = [
      {
        name: 'a link to a link',
        setup: () => {
          symlinkSync(join(outside, 'extra'), join(outside, 'extra-link'));
          symlinkSync(join(outside, 'extra-link'), join(dataDir, 'chain'));
        },
        cleanup: () => {
          rmSync(join(dataDir, 'chain'));
          rmSync(join(outside, 'extra-link'));
        },
      },
      {
        name: 'a directory in pg_tblspc',
        setup: () => mkdirAsPostgres(join(dataDir, 'pg_tblspc', 'not-a-link')),
        cleanup: () => rmSync(join(dataDir, 'pg_tblspc', 'not-a-link'), { recursive: true }),
      },
      {
        name: 'a file in pg_tblspc',
        setup: () => writeAsPostgres(join(dataDir, 'pg_tblspc', 'stray'), 'x'),
        cleanup: () => rmSync(join(dataDir, 'pg_tblspc', 'stray')),
      },
      {
        name: 'a destination inside PGDATA',
        setup: () => symlinkSync(join(dataDir, 'log'), join(dataDir, 'inside')),
        cleanup: () => rmSync(join(dataDir, 'inside')),
      },
      {
        name: 'two links to one directory',
        setup: () => symlinkSync(join(outside, 'extra'), join(dataDir, 'extra2')),
        cleanup: () => rmSync(join(dataDir, 'extra2')),
      },
      {
        name: 'a link into another link destination',
        setup: () => symlinkSync(join(outside, 'extra', 'sub'), join(dataDir, 'extra-sub')),
        cleanup: () => rmSync(join(dataDir, 'extra-sub')),
      },
      {
        name: 'two links to one file',
        setup: () => symlinkSync(join(outside, 'conf', 'linked.conf'), join(dataDir, 'linked2.conf')),
        cleanup: () => rmSync(join(dataDir, 'linked2.conf')),
      },
      {
        name: 'a tablespace link to a file',
        setup: () => symlinkSync(join(outside, 'extra', 'data.txt'), join(dataDir, 'pg_tblspc', '99999')),
        cleanup: () => rmSync(join(dataDir, 'pg_tblspc', '99999')),
      },
      {
        name: 'a tablespace location without the directory of this version',
        setup: () => {
          mkdirAsPostgres(join(outside, 'empty-ts'));
          symlinkSync(join(outside, 'empty-ts'), join(dataDir, 'pg_tblspc', '99998'));
        },
        cleanup: () => {
          rmSync(join(dataDir, 'pg_tblspc', '99998'));
          rmSync(join(outside, 'empty-ts'), { recursive: true });
        },
      },
      {
        name: 'a tablespace location where the directory of this version is a file',
        setup: () => {
          mkdirAsPostgres(join(outside, 'file-ts'));
          writeAsPostgres(join(outside, 'file-ts', tablespaceDirectoryName(pgVersion)), 'x');
          symlinkSync(join(outside, 'file-ts'), join(dataDir, 'pg_tblspc', '99997'));
        },
        cleanup: () => {
          rmSync(join(dataDir, 'pg_tblspc', '99997'));
          rmSync(join(outside, 'file-ts'), { recursive: true });
        },
        exact: false,
      },
      {
        name: 'a tablespace link not named by an oid',
        setup: () => symlinkSync(join(outside, 'extra'), join(dataDir, 'pg_tblspc', 'abc')),
        cleanup: () => rmSync(join(dataDir, 'pg_tblspc', 'abc')),
      },
      {
        name: 'a missing destination',
        setup: () => symlinkSync(join(outside, 'missing'), join(dataDir, 'dangling')),
        cleanup: () => rmSync(join(dataDir, 'dangling')),
      },
    ];

    for (const testCase of cases) {
      it(testCase.name, async () => {
        testCase.setup();
        try {
          const result = await stanza.pgbackrest(backupArgs(false), { check: false });
          const line = /ERROR: \[(\d+)\]: (.*)/.exec(result.stdout + result.stderr);
          expect(line, result.stdout + result.stderr).not.toBeNull();
          const error = await buildManifest(options(false)).then(
            () => undefined,
            (caught: unknown) => caught,
          );
          expect(isPgkeepError(error)).toBe(true);
          if (!isPgkeepError(error)) return;
          const message = testCase.exact === false ? error.message.slice(0, line![2]!.length) : error.message;
          expect({ code: error.code, message }).toEqual({ code: Number(line![1]), message: line![2] });
          expect(result.code).toBe(error.code);
        } finally {
          testCase.cleanup();
        }
      });
    }
  });
});
