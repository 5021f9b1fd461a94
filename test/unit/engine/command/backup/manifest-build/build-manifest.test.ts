import { chmodSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  buildManifest,
  type BuildManifestOptions,
  type BuiltManifest,
} from '../../../../../../engine/command/backup/manifest-build/build-manifest.js';
import { isPgkeepError } from '../../../../../../engine/error/pgkeep-error.js';
import { log, type LogRecord } from '../../../../../../engine/log/logger.js';
import { pgVersionByString } from '../../../../../../engine/postgres/version-table.js';
import { compareBytes } from '../../../../../../engine/repo/info/json-value.js';
import { PosixStorage } from '../../../../../../engine/storage/posix/posix-storage.js';
import { groupName, userName } from '../../../../../../engine/storage/posix/user-group.js';
import type { ListOptions, Storage, StorageInfo } from '../../../../../../engine/storage/storage.js';
import { dataDirectory, makeTree, MTIME, removeScratch, scratch } from './tree.js';

const PG15 = pgVersionByString('15');
const TS_DIR = 'PG_15_202209061';

afterAll(removeScratch);

function build(pgPath: string, options: Partial<BuildManifestOptions> = {}): Promise<BuiltManifest> {
  return buildManifest({ pgPath, pgVersion: PG15, catalogVersion: PG15.catalogVersion, online: true, ...options });
}

/** Builds and returns the result with the log records written meanwhile. */
async function buildLogged(pgPath: string, options: Partial<BuildManifestOptions> = {}) {
  const records: LogRecord[] = [];
  const stop = log.subscribe((record) => records.push(record));
  try {
    return { manifest: await build(pgPath, options), records };
  } finally {
    stop();
  }
}

async function buildError(pgPath: string, options: Partial<BuildManifestOptions> = {}) {
  const error = await build(pgPath, options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isPgkeepError(error)) throw new Error(`expected a PgkeepError, got ${String(error)}`);
  return { name: error.errorName, message: error.message };
}

const names = (map: ReadonlyMap<string, unknown>) => [...map.keys()];

describe('buildManifest: the data directory', () => {
  it('lists paths, files and the pg_data target with owners, modes, sizes and mtimes', async () => {
    const pgPath = dataDirectory({ 'open.conf': 'x', 'open-dir': { dir: 0o750 } });
    chmodSync(join(pgPath, 'open.conf'), 0o644);
    const { uid, gid } = statSync(pgPath);
    const manifest = await build(pgPath);

    expect(manifest.targets).toEqual(new Map([['pg_data', { name: 'pg_data', type: 'path', path: pgPath }]]));
    expect(manifest.links.size).toBe(0);
    const root = manifest.paths.get('pg_data')!;
    expect(root).toEqual({ name: 'pg_data', user: userName(uid) ?? false, group: groupName(gid) ?? false, mode: 0o700 });
    expect(manifest.paths.get('pg_data/open-dir')).toMatchObject({ mode: 0o750, user: root.user, group: root.group });
    expect(manifest.files.get('pg_data/global/pg_control')).toEqual({
      name: 'pg_data/global/pg_control',
      size: 8192,
      sizeRepo: 8192,
      timestamp: MTIME,
      checksum: undefined,
      checksumRepo: undefined,
      reference: undefined,
      user: root.user,
      group: root.group,
      mode: 0o600,
    });
    expect(manifest.files.get('pg_data/open.conf')?.mode).toBe(0o644);
  });

  it('orders every map by byte order of the names, as pgBackRest saves them', async () => {
    const pgPath = dataDirectory({ 'base.txt': 'x', 'base-1/a': 'x', Zeta: 'x', 'base/5/10': '' });
    const manifest = await build(pgPath);
    for (const map of [manifest.files, manifest.paths, manifest.targets, manifest.links]) {
      expect(names(map)).toEqual(names(map).sort(compareBytes));
    }
    // Depth first would put base/5/... before base.txt; byte order puts '.' (0x2e) before '/' (0x2f)
    const files = names(manifest.files);
    expect(files.indexOf('pg_data/base.txt')).toBeLessThan(files.indexOf('pg_data/base/5/10'));
    expect(files.indexOf('pg_data/Zeta')).toBeLessThan(files.indexOf('pg_data/base.txt'));
  });

  it('records only permission bits, like pgBackRest (no setgid or sticky bit)', async () => {
    const pgPath = dataDirectory({ shared: { dir: 0o2750 } });
    chmodSync(join(pgPath, 'shared'), 0o2750);
    expect((await build(pgPath)).paths.get('pg_data/shared')?.mode).toBe(0o750);
  });

  it('uses the path as configured, without a trailing slash', async () => {
    const pgPath = dataDirectory();
    const manifest = await build(`${pgPath}/`);
    expect(manifest.targets.get('pg_data')?.path).toBe(pgPath);
  });

  it('fails when the data directory is missing', async () => {
    const missing = join(scratch('missing'), 'nothing');
    expect((await buildError(missing)).name).toBe('FileMissing');
  });

  it('records false for owners without a name on this host', async () => {
    const pgPath = dataDirectory({
      'orphan.txt': 'x',
      'orphan-dir/f': 'x',
      'orphan-link': { link: scratch('orphan-destination') },
    });
    const manifest = await build(pgPath, { storage: new NamelessOwners(pgPath, 'orphan') });
    expect(manifest.files.get('pg_data/orphan.txt')).toMatchObject({ user: false, group: false });
    expect(manifest.paths.get('pg_data/orphan-dir')).toMatchObject({ user: false, group: false });
    expect(manifest.links.get('pg_data/orphan-link')).toMatchObject({ user: false, group: false });
    expect(manifest.files.get('pg_data/PG_VERSION')?.user).not.toBe(false);
  });
});

describe('buildManifest: exclusions', () => {
  it('skips anything named pgsql_tmp* wherever it is', async () => {
    const pgPath = dataDirectory({
      pgsql_tmp: 'x',
      'base/pgsql_tmp/pgsql_tmp12.0': 'x',
      'base/5/pgsql_tmp99': 'x',
      pgsql_tmp_link: { link: '/nonexistent' },
      'other/pgsql_tmpdir/f': 'x',
      'other/kept': 'x',
    });
    const manifest = await build(pgPath);
    const all = [...names(manifest.files), ...names(manifest.paths), ...names(manifest.links)];
    expect(all.filter((name) => name.includes('pgsql_tmp'))).toEqual([]);
    expect(manifest.files.has('pg_data/other/kept')).toBe(true);
  });

  it('keeps the reset directories of the root but not their contents, and only in the root', async () => {
    const emptied = ['pg_dynshmem', 'pg_notify', 'pg_replslot', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp', 'pg_subtrans'];
    const spec = Object.fromEntries(
      emptied.flatMap((dir) => [
        [`${dir}/file`, 'x'],
        [`${dir}/sub/file`, 'x'],
        [`nested/${dir}/file`, 'x'],
      ]),
    );
    const manifest = await build(dataDirectory({ ...spec, 'pg_stat/pgstat.stat': 'x' }));
    for (const dir of emptied) {
      expect(manifest.paths.has(`pg_data/${dir}`), dir).toBe(true);
      expect(manifest.paths.has(`pg_data/${dir}/sub`), dir).toBe(false);
      expect(manifest.files.has(`pg_data/${dir}/file`), dir).toBe(false);
      expect(manifest.files.has(`pg_data/nested/${dir}/file`), dir).toBe(true);
    }
    // pg_stat holds the statistics kept across restarts: backed up
    expect(manifest.files.has('pg_data/pg_stat/pgstat.stat')).toBe(true);
  });

  it('leaves out the contents of pg_wal and pg_wal/archive_status when online, not when offline', async () => {
    const pgPath = dataDirectory({ 'pg_wal/summaries/0001.summary': 'x', 'pg_wal/archive_status/sub/f': 'x' });
    const online = await build(pgPath, { online: true });
    expect(names(online.paths).filter((name) => name.startsWith('pg_data/pg_wal'))).toEqual([
      'pg_data/pg_wal',
      'pg_data/pg_wal/archive_status',
      'pg_data/pg_wal/summaries',
    ]);
    // Only files directly in pg_wal are WAL: other directories are walked (pgBackRest 2.45 knows no pg_wal/summaries)
    expect(names(online.files).filter((name) => name.startsWith('pg_data/pg_wal'))).toEqual([
      'pg_data/pg_wal/summaries/0001.summary',
    ]);

    const offline = await build(pgPath, { online: false });
    expect(names(offline.files).filter((name) => name.startsWith('pg_data/pg_wal'))).toEqual([
      'pg_data/pg_wal/000000010000000000000001',
      'pg_data/pg_wal/archive_status/000000010000000000000001.done',
      'pg_data/pg_wal/archive_status/sub/f',
      'pg_data/pg_wal/summaries/0001.summary',
    ]);
  });

  it('leaves out the root files of the running server, by version', async () => {
    const excluded = [
      'recovery.signal',
      'standby.signal',
      'postgresql.auto.conf.tmp',
      'backup_label',
      'backup_label.old',
      'postmaster.opts',
      'postmaster.pid',
      'backup_manifest',
      'backup_manifest.tmp',
    ];
    const kept = ['postgresql.auto.conf', 'current_logfiles', 'recovery.conf', 'tablespace_map', 'log/postmaster.pid'];
    const pgPath = dataDirectory(Object.fromEntries([...excluded, ...kept].map((name) => [name, 'x'])));
    const pg15 = await build(pgPath);
    for (const name of excluded) expect(pg15.files.has(`pg_data/${name}`), name).toBe(false);
    for (const name of kept) expect(pg15.files.has(`pg_data/${name}`), name).toBe(true);

    // pg_basebackup's manifest exists from 13: 12 backs it up like any file
    const pg12 = await build(pgPath, {
      pgVersion: pgVersionByString('12'),
      catalogVersion: pgVersionByString('12').catalogVersion,
    });
    expect(pg12.files.has('pg_data/backup_manifest')).toBe(true);
    expect(pg12.files.has('pg_data/backup_manifest.tmp')).toBe(true);
    expect(pg12.files.has('pg_data/backup_label')).toBe(false);
  });

  it('leaves out relation cache files and temporary relations in database directories only', async () => {
    const inDb = {
      'pg_internal.init': 'x',
      'pg_internal.init.1234': 'x',
      'pg_internal.initX.1': 'x',
      t3_16384: 'x',
      t3_16384_fsm: 'x',
      't3_16384_vm.2': 'x',
      't3_16384.1': 'x',
    };
    const keptInDb = { 'pg_internal.init.tmp': 'x', t3_16384_init: 'x', t3_x: 'x', tt3_1: 'x' };
    const spec: Record<string, string> = {};
    for (const dir of ['global', 'base/5', `pg_tblspc_loc/${TS_DIR}/5`]) {
      for (const name of Object.keys({ ...inDb, ...keptInDb })) spec[`${dir}/${name}`] = 'x';
    }
    for (const name of Object.keys(inDb)) spec[`base/${name}`] = 'x';
    for (const name of Object.keys(inDb)) spec[`base/5/sub/${name}`] = 'x';
    const pgPath = dataDirectory(spec);
    rmSync(join(pgPath, 'pg_tblspc'), { recursive: true });
    makeTree(pgPath, { 'pg_tblspc/16384': { link: join(pgPath, '..', 'loc') } });
    makeTree(
      join(pgPath, '..'),
      Object.fromEntries(
        Object.entries(spec)
          .filter(([name]) => name.startsWith('pg_tblspc_loc/'))
          .map(([name, value]) => [name.replace('pg_tblspc_loc/', 'loc/'), value]),
      ),
    );
    const manifest = await build(pgPath);

    for (const dir of ['pg_data/global', 'pg_data/base/5', `pg_tblspc/16384/${TS_DIR}/5`]) {
      for (const name of Object.keys(inDb)) expect(manifest.files.has(`${dir}/${name}`), `${dir}/${name}`).toBe(false);
      for (const name of Object.keys(keptInDb)) expect(manifest.files.has(`${dir}/${name}`), `${dir}/${name}`).toBe(true);
    }
    // Not database directories: kept
    for (const name of Object.keys(inDb)) {
      expect(manifest.files.has(`pg_data/base/${name}`), name).toBe(true);
      expect(manifest.files.has(`pg_data/base/5/sub/${name}`), name).toBe(true);
    }
  });

  it('leaves out every fork and segment of unlogged relations but keeps their init fork', async () => {
    const relation = (dir: string, id: string) => ({
      [`${dir}/${id}`]: 'x',
      [`${dir}/${id}_fsm`]: 'x',
      [`${dir}/${id}_vm`]: 'x',
      [`${dir}/${id}.1`]: 'x',
      [`${dir}/${id}_fsm.1`]: 'x',
    });
    const pgPath = dataDirectory({
      ...relation('base/5', '16390'),
      'base/5/16390_init': '',
      'base/5/16390_init.1': '',
      ...relation('base/5', '16391'),
      ...relation('base/6', '16390'),
      ...relation('global', '7000'),
      'global/7000_init': '',
    });
    const manifest = await build(pgPath);
    const files = names(manifest.files);
    expect(files.filter((name) => name.startsWith('pg_data/base/5/1639'))).toEqual([
      'pg_data/base/5/16390_init',
      'pg_data/base/5/16390_init.1',
      'pg_data/base/5/16391',
      'pg_data/base/5/16391.1',
      'pg_data/base/5/16391_fsm',
      'pg_data/base/5/16391_fsm.1',
      'pg_data/base/5/16391_vm',
    ]);
    // The same relfilenode in another database is another relation
    expect(files.filter((name) => name.startsWith('pg_data/base/6/'))).toHaveLength(5);
    expect(files.filter((name) => name.startsWith('pg_data/global/7000'))).toEqual(['pg_data/global/7000_init']);
  });

  it('applies --exclude: dir/ drops the contents, a name drops the entry', async () => {
    const pgPath = dataDirectory({
      'keep/dir/a': 'x',
      'keep/dir/sub/b': 'x',
      'drop-file': 'x',
      'drop-dir/c': 'x',
      'base/5/16384': 'x',
      'link-dropped': { link: '/nonexistent' },
    });
    const { manifest, records } = await buildLogged(pgPath, {
      exclude: ['keep/dir/', 'drop-file', 'drop-dir', 'base/5/16384', 'link-dropped', 'not-there/'],
    });
    expect(manifest.paths.has('pg_data/keep/dir')).toBe(true);
    expect(manifest.paths.has('pg_data/keep/dir/sub')).toBe(false);
    expect(manifest.files.has('pg_data/keep/dir/a')).toBe(false);
    expect(manifest.files.has('pg_data/drop-file')).toBe(false);
    expect(manifest.paths.has('pg_data/drop-dir')).toBe(false);
    expect(manifest.files.has('pg_data/drop-dir/c')).toBe(false);
    expect(manifest.files.has('pg_data/base/5/16384')).toBe(false);
    expect(manifest.links.size).toBe(0);
    const info = records.filter((record) => record.level === 'info').map((record) => record.message);
    expect(info).toEqual(
      expect.arrayContaining([
        `exclude '${pgPath}/drop-file' from backup using 'drop-file' exclusion`,
        `exclude contents of '${pgPath}/keep/dir' from backup using 'keep/dir/' exclusion`,
      ]),
    );
  });

  it('skips sockets and other special files with a warning, also in pg_tblspc', async () => {
    const pgPath = dataDirectory();
    const servers: Server[] = [];
    try {
      for (const path of [join(pgPath, 'sock'), join(pgPath, 'pg_tblspc', 'sock')]) {
        const server = createServer();
        await new Promise<void>((resolve) => server.listen(path, resolve));
        servers.push(server);
      }
      const { manifest, records } = await buildLogged(pgPath);
      expect(manifest.files.has('pg_data/sock')).toBe(false);
      expect(records.filter((record) => record.level === 'warn').map((record) => record.message)).toEqual([
        `exclude special file '${pgPath}/pg_tblspc/sock' from backup`,
        `exclude special file '${pgPath}/sock' from backup`,
      ]);
    } finally {
      for (const server of servers) await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('buildManifest: links', () => {
  it('records a directory link as a target, a link and a path with the destination contents', async () => {
    const outside = scratch('outside');
    makeTree(outside, { 'dir/a': 'x', 'dir/sub/b': 'x', dir: { dir: 0o750 } });
    chmodSync(join(outside, 'dir'), 0o750);
    const pgPath = dataDirectory({ extra: { link: join(outside, 'dir') } });
    const manifest = await build(pgPath);
    expect(manifest.targets.get('pg_data/extra')).toEqual({ name: 'pg_data/extra', type: 'link', path: join(outside, 'dir') });
    expect(manifest.links.get('pg_data/extra')).toMatchObject({ name: 'pg_data/extra', destination: join(outside, 'dir') });
    // The path takes the destination directory's mode
    expect(manifest.paths.get('pg_data/extra')?.mode).toBe(0o750);
    expect(manifest.paths.has('pg_data/extra/sub')).toBe(true);
    expect(manifest.files.has('pg_data/extra/a') && manifest.files.has('pg_data/extra/sub/b')).toBe(true);
  });

  it('records a file link as a target of its directory and file, and the file from its destination', async () => {
    const outside = scratch('outside');
    makeTree(outside, { 'conf/pg.conf': 'abc' });
    const pgPath = dataDirectory({ 'postgresql.conf': { link: join(outside, 'conf', 'pg.conf') } });
    const manifest = await build(pgPath);
    expect(manifest.targets.get('pg_data/postgresql.conf')).toEqual({
      name: 'pg_data/postgresql.conf',
      type: 'link',
      path: join(outside, 'conf'),
      file: 'pg.conf',
    });
    expect(manifest.files.get('pg_data/postgresql.conf')).toMatchObject({ size: 3, timestamp: MTIME });
  });

  it('keeps a relative destination as written in the target and checks it against the link directory', async () => {
    const parent = scratch('relative');
    const pgPath = join(parent, 'data');
    makeTree(parent, { 'data/PG_VERSION': '15', 'data/pg_tblspc': { dir: 0o700 }, 'rel/f': 'x', 'data/rel': { link: '../rel' } });
    makeTree(parent, { 'conf-dir/f': 'x', 'data/conf': { link: '../conf-dir/f' } });
    const manifest = await build(pgPath);
    expect(manifest.targets.get('pg_data/rel')).toMatchObject({ type: 'link', path: '../rel' });
    expect(manifest.targets.get('pg_data/conf')).toMatchObject({ type: 'link', path: '../conf-dir', file: 'f' });
    expect(manifest.links.get('pg_data/rel')?.destination).toBe('../rel');
    expect(manifest.files.has('pg_data/rel/f')).toBe(true);
  });

  it('applies the rules of the place a link is in: a linked pg_wal or reset directory, a linked relation', async () => {
    const outside = scratch('outside');
    makeTree(outside, { 'wal/000000010000000000000002': 'w', 'wal/archive_status/x.ready': '', 'notify/0000': 'x', rel: 'r' });
    const pgPath = dataDirectory({ notify: 'unused' });
    rmSync(join(pgPath, 'pg_wal'), { recursive: true });
    makeTree(pgPath, {
      pg_wal: { link: join(outside, 'wal') },
      pg_notify: { link: join(outside, 'notify') },
      'base/5/16400': { link: join(outside, 'rel') },
      'base/5/16400_init': '',
    });
    const manifest = await build(pgPath);
    expect(manifest.targets.get('pg_data/pg_wal')).toMatchObject({ type: 'link', path: join(outside, 'wal') });
    expect(manifest.paths.has('pg_data/pg_wal/archive_status')).toBe(true);
    expect(names(manifest.files).filter((name) => /pg_wal|pg_notify/.test(name))).toEqual([]);
    // A linked relation file is a relation of its directory: unlogged here, so left out, but its link stays
    expect(manifest.files.has('pg_data/base/5/16400')).toBe(false);
    expect(manifest.links.has('pg_data/base/5/16400')).toBe(true);

    const offline = await build(pgPath, { online: false });
    expect(offline.files.has('pg_data/pg_wal/000000010000000000000002')).toBe(true);
  });

  it('allows file links to share a directory, and to sit in the parent of a linked directory', async () => {
    const outside = scratch('outside');
    makeTree(outside, { 'etc/a.conf': 'a', 'etc/b.conf': 'b', 'etc/sub/x': 'x', 'etc/sub/inner/c.conf': 'c' });
    const pgPath = dataDirectory({
      'a.conf': { link: join(outside, 'etc', 'a.conf') },
      'b.conf': { link: join(outside, 'etc', 'b.conf') },
      sub: { link: join(outside, 'etc', 'sub', 'inner') },
      'c.conf': { link: join(outside, 'etc', 'sub', 'inner', 'c.conf') },
    });
    // c.conf is a file link whose directory is a directory link's destination: same directory, refused
    expect(await buildError(pgPath)).toEqual({
      name: 'LinkDestination',
      message: `link 'sub' (${join(outside, 'etc/sub/inner')}) destination is the same directory as link 'c.conf' (${join(outside, 'etc/sub/inner')})`,
    });
    rmSync(join(pgPath, 'c.conf'));
    const manifest = await build(pgPath);
    expect(names(manifest.targets)).toEqual(['pg_data', 'pg_data/a.conf', 'pg_data/b.conf', 'pg_data/sub']);
  });
});

describe('buildManifest: tablespaces', () => {
  function withTablespace(): { pgPath: string; location: string } {
    const location = scratch('ts');
    makeTree(location, {
      [`${TS_DIR}/5/16385`]: 'x'.repeat(100),
      [`${TS_DIR}/5/16386_init`]: '',
      [`${TS_DIR}/5/16386`]: '',
      'PG_14_202107181/5/99': 'other version',
    });
    const pgPath = dataDirectory({ 'pg_tblspc/16384': { link: location } });
    chmodSync(join(pgPath, 'pg_tblspc'), 0o750);
    return { pgPath, location };
  }

  it('names the files pg_tblspc/<oid>/PG_<major>_<catalog>/... and walks only that directory', async () => {
    const { pgPath, location } = withTablespace();
    const manifest = await build(pgPath, {
      tablespaces: [
        { oid: 1663, name: 'pg_default' },
        { oid: 16384, name: 'ts1' },
      ],
    });
    expect(manifest.targets.get('pg_tblspc/16384')).toEqual({
      name: 'pg_tblspc/16384',
      type: 'link',
      path: location,
      tablespaceId: 16384,
      tablespaceName: 'ts1',
    });
    expect(manifest.links.get('pg_data/pg_tblspc/16384')).toMatchObject({ destination: location });
    const root = manifest.paths.get('pg_data')!;
    // The dummy pg_tblspc path takes PGDATA's owner and mode; pg_tblspc/<oid> those of pg_data/pg_tblspc
    expect(manifest.paths.get('pg_tblspc')).toEqual({ ...root, name: 'pg_tblspc' });
    expect(manifest.paths.get('pg_tblspc/16384')).toEqual({ ...root, name: 'pg_tblspc/16384', mode: 0o750 });
    expect(names(manifest.paths).filter((name) => name.startsWith('pg_tblspc'))).toEqual([
      'pg_tblspc',
      'pg_tblspc/16384',
      `pg_tblspc/16384/${TS_DIR}`,
      `pg_tblspc/16384/${TS_DIR}/5`,
    ]);
    expect(names(manifest.files).filter((name) => name.startsWith('pg_tblspc'))).toEqual([
      `pg_tblspc/16384/${TS_DIR}/5/16385`,
      `pg_tblspc/16384/${TS_DIR}/5/16386_init`,
    ]);
  });

  it('names tablespaces ts<oid> without a list (offline), and fails on one missing from the list', async () => {
    const { pgPath } = withTablespace();
    expect((await build(pgPath)).targets.get('pg_tblspc/16384')?.tablespaceName).toBe('ts16384');
    expect(await buildError(pgPath, { tablespaces: [{ oid: 1663, name: 'pg_default' }] })).toEqual({
      name: 'Assert',
      message: 'tablespace with oid 16384 not found in tablespace map',
    });
  });

  it('refuses what cannot be a tablespace link', async () => {
    const { pgPath } = withTablespace();
    const outside = scratch('outside');
    makeTree(outside, { 'file.txt': 'x', empty: { dir: 0o700 }, [`as-file/${TS_DIR}`]: 'x' });
    const cases: [Record<string, string | { link: string } | { dir: number }>, { name: string; message: string }][] = [
      [
        { 'pg_tblspc/dir': { dir: 0o700 } },
        { name: 'LinkExpected', message: "'pg_data/pg_tblspc/dir' is not a symlink - pg_tblspc should contain only symlinks" },
      ],
      [
        { 'pg_tblspc/file': 'x' },
        { name: 'LinkExpected', message: "'pg_data/pg_tblspc/file' is not a symlink - pg_tblspc should contain only symlinks" },
      ],
      [
        { 'pg_tblspc/abc': { link: join(outside, 'empty') } },
        { name: 'Format', message: "unable to convert base 10 string 'abc' to unsigned int" },
      ],
      [
        { 'pg_tblspc/4294967296': { link: join(outside, 'empty') } },
        { name: 'Format', message: "unable to convert base 10 string '4294967296' to unsigned int" },
      ],
      [
        { 'pg_tblspc/20000': { link: join(outside, 'file.txt') } },
        {
          name: 'FileOpen',
          message: `unable to get info for path/file '${pgPath}/pg_tblspc/20000/${TS_DIR}': [20] Not a directory`,
        },
      ],
      [
        { 'pg_tblspc/20001': { link: join(outside, 'empty') } },
        {
          name: 'FileOpen',
          message: `unable to get info for missing path/file '${pgPath}/pg_tblspc/20001/${TS_DIR}': [2] No such file or directory`,
        },
      ],
      [
        { 'pg_tblspc/20002': { link: join(outside, 'as-file') } },
        { name: 'Format', message: `tablespace links to a file: '${pgPath}/pg_tblspc/20002/${TS_DIR}' is not a directory` },
      ],
      [
        { 'pg_tblspc/20003': { link: join(outside, 'gone') } },
        {
          name: 'FileOpen',
          message: `unable to get info for missing path/file '${pgPath}/pg_tblspc/20003/${TS_DIR}': [2] No such file or directory`,
        },
      ],
    ];
    for (const [spec, expected] of cases) {
      makeTree(pgPath, spec);
      try {
        expect(await buildError(pgPath), Object.keys(spec)[0]).toEqual(expected);
      } finally {
        for (const name of Object.keys(spec)) rmSync(join(pgPath, name), { recursive: true });
      }
    }
    // pgsql_tmp entries and excluded names in pg_tblspc are skipped before the check
    makeTree(pgPath, { 'pg_tblspc/pgsql_tmp': 'x', 'pg_tblspc/stray': 'x' });
    expect((await build(pgPath, { exclude: ['pg_tblspc/stray'] })).targets.has('pg_tblspc/16384')).toBe(true);
  });
});

describe('buildManifest: link errors', () => {
  const outside = () => {
    const path = scratch('outside');
    makeTree(path, { 'a/f': 'x', 'a/b/file': 'x', 'a/sub/g': 'x', 'b/f': 'x', 'conf/x.conf': 'x', 'ab/f': 'x' });
    return path;
  };

  it('refuses a link to another link', async () => {
    const out = outside();
    makeTree(out, { 'to-a': { link: join(out, 'a') } });
    const pgPath = dataDirectory({ chain: { link: join(out, 'to-a') } });
    expect(await buildError(pgPath)).toEqual({
      name: 'LinkDestination',
      message: `link '${pgPath}/chain' cannot reference another link '${join(out, 'to-a')}'`,
    });
    // A relative chain is resolved against the link's directory
    rmSync(join(pgPath, 'chain'));
    makeTree(pgPath, { 'sub/chain': { link: '../inner' }, inner: { link: join(out, 'a') } });
    expect((await buildError(pgPath)).message).toBe(`link '${pgPath}/sub/chain' cannot reference another link '${pgPath}/inner'`);
  });

  it('refuses a destination inside PGDATA', async () => {
    const pgPath = dataDirectory();
    makeTree(pgPath, { inside: { link: join(pgPath, 'base') } });
    expect(await buildError(pgPath)).toEqual({
      name: 'LinkDestination',
      message: `link 'inside' destination '${pgPath}/base' is in PGDATA`,
    });
  });

  it('refuses overlapping destinations, whichever is found first', async () => {
    const out = outside();
    const cases: [Record<string, { link: string }>, string][] = [
      [
        { l1: { link: join(out, 'a') }, l2: { link: join(out, 'a') } },
        `link 'l2' (${out}/a) destination is the same directory as link 'l1' (${out}/a)`,
      ],
      [
        { l1: { link: join(out, 'a') }, l2: { link: join(out, 'a/sub') } },
        `link 'l2' (${out}/a/sub) destination is a subdirectory of link 'l1' (${out}/a)`,
      ],
      [
        { l1: { link: join(out, 'a/sub') }, l2: { link: join(out, 'a') } },
        `link 'l1' (${out}/a/sub) destination is a subdirectory of link 'l2' (${out}/a)`,
      ],
      // a file link sorting in between does not hide the parent or the child
      [
        { l1: { link: join(out, 'a') }, l2: { link: join(out, 'a/b/file') }, l3: { link: join(out, 'a/sub') } },
        `link 'l3' (${out}/a/sub) destination is a subdirectory of link 'l1' (${out}/a)`,
      ],
      [
        { l1: { link: join(out, 'a/sub') }, l2: { link: join(out, 'a/b/file') }, l3: { link: join(out, 'a') } },
        `link 'l1' (${out}/a/sub) destination is a subdirectory of link 'l3' (${out}/a)`,
      ],
      [
        { l1: { link: join(out, 'a') }, l2: { link: join(out, 'a/f') } },
        `link 'l2' (${out}/a) destination is the same directory as link 'l1' (${out}/a)`,
      ],
      [
        { l1: { link: join(out, 'conf/x.conf') }, l2: { link: join(out, 'conf/x.conf') } },
        `link 'l2' (${out}/conf/x.conf) destination is the same file as link 'l1' (${out}/conf/x.conf)`,
      ],
    ];
    for (const [spec, message] of cases) {
      const pgPath = dataDirectory(spec);
      expect(await buildError(pgPath), message).toEqual({ name: 'LinkDestination', message });
    }
    // a/ and ab/ are siblings, not nested; file links around a directory link's parent are fine
    const fine = dataDirectory({
      l1: { link: join(out, 'a') },
      l2: { link: join(out, 'ab') },
      l3: { link: join(out, 'conf/x.conf') },
      l4: { link: join(out, 'b/f') },
      l5: { link: join(out, 'a/sub/g') },
    });
    expect(names((await build(fine)).targets)).toHaveLength(6);
  });

  it('refuses a missing destination after the overlap checks', async () => {
    const out = outside();
    const pgPath = dataDirectory({ dangling: { link: join(out, 'gone') } });
    expect(await buildError(pgPath)).toEqual({
      name: 'FileOpen',
      message: `unable to get info for missing path/file '${pgPath}/dangling': [2] No such file or directory`,
    });
    // Inside PGDATA is reported first even when missing
    rmSync(join(pgPath, 'dangling'));
    makeTree(pgPath, { dangling: { link: join(pgPath, 'gone') } });
    expect((await buildError(pgPath)).name).toBe('LinkDestination');
  });
});

describe('buildManifest: a live data directory', () => {
  it('records a directory removed while walking as empty, without an error', async () => {
    const pgPath = dataDirectory({ 'base/16999/1': 'x', 'base/16999/2': 'x' });
    const manifest = await build(pgPath, { storage: new RemoveBeforeList(pgPath, 'base/16999') });
    expect(manifest.paths.has('pg_data/base/16999')).toBe(true);
    expect(names(manifest.files).filter((name) => name.startsWith('pg_data/base/16999'))).toEqual([]);
  });
});

/** PosixStorage whose listings report no owner name for entries named with a marker. */
class NamelessOwners extends PosixStorage {
  constructor(
    basePath: string,
    private readonly marker: string,
  ) {
    super({ basePath });
  }

  override async list(path: string, options?: ListOptions): Promise<StorageInfo[]> {
    return (await super.list(path, options)).map((info) =>
      info.name.includes(this.marker) ? { ...info, user: null, group: null } : info,
    );
  }

  override async info(
    path: string,
    options?: { ignoreMissing?: boolean; followLink?: boolean },
  ): Promise<StorageInfo | undefined> {
    const info = await super.info(path, options);
    return info !== undefined && path.includes(this.marker) ? { ...info, user: null, group: null } : info;
  }
}

/** PosixStorage that removes one directory right before it is listed, as a DROP DATABASE during the walk would. */
class RemoveBeforeList extends PosixStorage implements Storage {
  constructor(
    basePath: string,
    private readonly victim: string,
  ) {
    super({ basePath });
  }

  override async list(path: string, options?: ListOptions): Promise<StorageInfo[]> {
    if (path === this.victim) rmSync(this.resolve(path), { recursive: true });
    return super.list(path, options);
  }
}
