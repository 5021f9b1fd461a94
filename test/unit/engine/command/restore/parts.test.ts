import { describe, expect, it } from 'vitest';

import { RestoreLayout } from '../../../../../engine/command/restore/layout.js';
import type { RestorePlanJson } from '../../../../../engine/command/restore/plan-json.js';
import { renderPlanText } from '../../../../../engine/command/restore/plan-text.js';
import { problem, problemError, problemOf } from '../../../../../engine/command/restore/problems.js';
import { recoverySettings, renderAutoConf, restoreLabel } from '../../../../../engine/command/restore/recovery-settings.js';
import {
  describeLsn,
  formatTargetTime,
  parseTargetLsn,
  parseTargetTime,
  parseTargetTimeline,
  parseTargetXid,
} from '../../../../../engine/command/restore/recovery-target.js';
import { archiveGetCommand, requestFromConfig, type RestoreRequest } from '../../../../../engine/command/restore/request.js';
import { mapTargets } from '../../../../../engine/command/restore/target-map.js';
import { parseCommandLine } from '../../../../../engine/config/command-line.js';
import { resolveConfig } from '../../../../../engine/config/resolve.js';
import { PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import { parseManifest, type Manifest } from '../../../../../engine/repo/manifest/manifest.js';
import { PosixStorage } from '../../../../../engine/storage/posix/posix-storage.js';
import { memoryIo } from '../../config/memory-io.js';
import { exampleText } from '../../repo/examples.js';
import { failure } from '../../../failure.js';

function request(overrides: Partial<RestoreRequest> = {}): RestoreRequest {
  return {
    stanza: 'demo',
    repos: [],
    pgPath: '/var/lib/postgresql/15/main',
    type: 'default',
    typeGiven: false,
    targetExclusive: false,
    tablespaceMap: {},
    linkMap: {},
    linkAll: false,
    dbInclude: [],
    dbExclude: [],
    delta: false,
    force: false,
    recoveryOptions: {},
    archiveMode: 'preserve',
    archiveGetCommand: 'pgkeep --stanza=demo archive-get',
    processMax: 1,
    jobRetry: 0,
    jobRetryIntervalMs: 0,
    bufferSize: 1048576,
    ...overrides,
  };
}

describe('recovery targets', () => {
  it('reads times as pgBackRest does, and the ISO forms', () => {
    expect(parseTargetTime('2026-11-21 04:56:00+00')).toEqual({
      micros: Date.UTC(2026, 10, 21, 4, 56) * 1000,
      seconds: Date.UTC(2026, 10, 21, 4, 56) / 1000,
      local: false,
    });
    expect(parseTargetTime('2026-11-21T04:56:00.5Z')!.micros).toBe(Date.UTC(2026, 10, 21, 4, 56) * 1000 + 500000);
    expect(parseTargetTime('2026-11-21 06:56:00,123456+02')!.micros).toBe(Date.UTC(2026, 10, 21, 4, 56) * 1000 + 123456);
    expect(parseTargetTime('2026-11-21 02:26:00-0230')!.seconds).toBe(Date.UTC(2026, 10, 21, 4, 56) / 1000);
    expect(parseTargetTime('2026-11-21 07:26:00+02:30')!.seconds).toBe(Date.UTC(2026, 10, 21, 4, 56) / 1000);
    expect(parseTargetTime('2026-11-21 04:56:00')).toMatchObject({
      local: true,
      seconds: new Date(2026, 10, 21, 4, 56).getTime() / 1000,
    });
    for (const bad of ['2026-02-30 00:00:00', '2026-13-01 00:00:00', '2026-01-01 24:00:00', 'now', '2026-01-01'])
      expect(parseTargetTime(bad)).toBeUndefined();
    expect(formatTargetTime(1795236960)).toBe('2026-11-21 04:56:00+00');
    expect(formatTargetTime(1795236960.25)).toBe('2026-11-21 04:56:00.25+00');
  });

  it('reads lsns, xids and timelines', () => {
    expect(parseTargetLsn(' 0/3000028 ')).toBe(0x3000028n);
    expect(failure(() => parseTargetLsn('3000028'))).toMatchObject({ errorName: 'Format', code: 29 }); // pgbackrest: [029] lsn requires two parts
    expect(describeLsn(0x3000028n)).toBe('0/3000028');
    expect(parseTargetXid('12345')).toBe(12345n);
    expect(parseTargetXid('x')).toBeUndefined();
    expect(parseTargetTimeline(undefined)).toEqual({ kind: 'latest' });
    expect(parseTargetTimeline('latest')).toEqual({ kind: 'latest' });
    expect(parseTargetTimeline('current')).toEqual({ kind: 'current' });
    expect(parseTargetTimeline('12')).toEqual({ kind: 'id', id: 12 });
    expect(parseTargetTimeline('0x1A')).toEqual({ kind: 'id', id: 26 });
    for (const bad of ['0', 'ten', '99999999999'])
      expect(failure(() => parseTargetTimeline(bad)).errorName).toBe('OptionInvalidValue');
  });
});

describe('recovery settings', () => {
  it('are written in pgBackRest order for a targeted recovery', () => {
    const { recovery, problems } = recoverySettings(
      request({
        type: 'time',
        target: '2026-11-21 04:56:00+00',
        targetExclusive: true,
        targetAction: 'promote',
        targetTimeline: '2',
        recoveryOptions: { 'primary-conninfo': 'host=x', archive_cleanup_command: 'true' },
        archiveMode: 'off',
      }),
      'time',
      true,
    );
    expect(problems).toEqual([]);
    expect(recovery.settings).toEqual([
      { key: 'archive_cleanup_command', value: 'true' },
      { key: 'primary_conninfo', value: 'host=x' },
      { key: 'archive_mode', value: 'off' },
      { key: 'restore_command', value: 'pgkeep --stanza=demo archive-get %f "%p"' },
      { key: 'recovery_target_time', value: '2026-11-21 04:56:00+00' },
      { key: 'recovery_target_inclusive', value: 'false' },
      { key: 'recovery_target_action', value: 'promote' },
      { key: 'recovery_target_timeline', value: '2' },
    ]);
    expect(recovery).toMatchObject({
      signalFile: 'recovery.signal',
      file: 'postgresql.auto.conf',
      restoreCommand: 'pgkeep --stanza=demo archive-get %f "%p"',
    });
  });

  it('immediate, standby, none, preserve, a given restore_command, standby_mode refused', () => {
    expect(recoverySettings(request({ targetAction: 'pause' }), 'immediate', true).recovery.settings.slice(1)).toEqual([
      { key: 'recovery_target', value: 'immediate' },
      { key: 'recovery_target_timeline', value: 'current' },
    ]);
    expect(recoverySettings(request(), 'standby', true).recovery).toMatchObject({
      signalFile: 'standby.signal',
      settings: [{ key: 'restore_command' }],
    });
    expect(recoverySettings(request(), 'none', true).recovery).toMatchObject({ signalFile: 'recovery.signal', settings: [] });
    expect(recoverySettings(request(), 'none', false).recovery.signalFile).toBeNull();
    expect(recoverySettings(request(), 'preserve', true).recovery).toEqual({
      type: 'preserve',
      file: null,
      settings: [],
      signalFile: null,
      restoreCommand: null,
    });
    expect(
      recoverySettings(request({ recoveryOptions: { 'restore-command': 'cp x %p' } }), 'default', true).recovery.restoreCommand,
    ).toBe('cp x %p');
    expect(recoverySettings(request({ recoveryOptions: { standby_mode: 'on' } }), 'default', true).problems).toMatchObject([
      { error: 'OptionInvalid' },
    ]);
    expect(recoverySettings(request({ target: 'point' }), 'name', true).recovery.settings[1]).toEqual({
      key: 'recovery_target_name',
      value: 'point',
    });
  });

  it('postgresql.auto.conf: earlier targets commented out, settings appended after one blank line, quotes doubled', () => {
    const { recovery } = recoverySettings(request({ target: "it's", type: 'name' }), 'name', true);
    const label = restoreLabel(new Date(2026, 10, 21, 4, 56, 0));
    expect(label).toBe('2026-11-21 04:56:00');
    expect(renderAutoConf("# header\n  recovery_target_name = 'old'\nwork_mem = 1\n\n\n", recovery, label)).toBe(
      "# header\n# Removed by pgkeep restore on 2026-11-21 04:56:00 #   recovery_target_name = 'old'\nwork_mem = 1\n\n" +
        '# Recovery settings generated by pgkeep restore on 2026-11-21 04:56:00\n' +
        `restore_command = 'pgkeep --stanza=demo archive-get %f "%p"'\nrecovery_target_name = 'it''s'\n`,
    );
    expect(renderAutoConf(undefined, recovery, label)).toMatch(/^# Recovery settings generated/);
    const none = recoverySettings(request(), 'none', true).recovery;
    expect(renderAutoConf('recovery_target=x\n', none, label)).toBe(
      `# Removed by pgkeep restore on ${label} # recovery_target=x\n`,
    );
  });
});

describe('problems', () => {
  it('carry the error table code and become errors again', () => {
    const found = problem('PathNotEmpty', 'full', { hint: 'use --delta' });
    expect(found).toEqual({ error: 'PathNotEmpty', code: 40, message: 'full', hint: 'use --delta' });
    expect(problemError(found)).toMatchObject({ errorName: 'PathNotEmpty', hint: 'use --delta' });
    expect(problemError(problem('Format', 'x')).hint).toBeUndefined();
    expect(problemOf(new PgkeepError('Access', 'denied'))).toEqual({ error: 'Access', code: 105, message: 'denied', hint: null });
  });
});

describe('target maps', () => {
  const example = (): Manifest => parseManifest(exampleText('full-lz4.backup.manifest'), 'full-lz4.backup.manifest');
  const withLinks = (): Manifest => {
    const manifest = example();
    manifest.targets.set('pg_data/pg_wal', { name: 'pg_data/pg_wal', type: 'link', path: '../wal' });
    manifest.links.set('pg_data/pg_wal', { name: 'pg_data/pg_wal', destination: '../wal', user: 'postgres', group: 'postgres' });
    manifest.targets.set('pg_data/postgresql.conf', {
      name: 'pg_data/postgresql.conf',
      type: 'link',
      path: '/etc/pg',
      file: 'postgresql.conf',
    });
    manifest.links.set('pg_data/postgresql.conf', {
      name: 'pg_data/postgresql.conf',
      destination: '/etc/pg/postgresql.conf',
      user: 'postgres',
      group: 'postgres',
    });
    return manifest;
  };

  it('keeps the backup locations by default, pg1-path moving the data directory', () => {
    const mapping = mapTargets(example(), request({ pgPath: '/srv/restore' }));
    expect(mapping.problems).toEqual([]);
    expect(mapping.targets.map((target) => [target.name, target.kind, target.path, target.restorePath, target.mappedBy])).toEqual(
      [
        ['pg_data', 'data', '/srv/restore', '/srv/restore', 'pg1-path'],
        ['pg_tblspc/16384', 'tablespace', '/srv/pg/ts1', '/srv/pg/ts1/PG_15_202209061', 'backup'],
      ],
    );
    expect([...mapping.links.values()]).toMatchObject([{ name: 'pg_data/pg_tblspc/16384', destination: '/srv/pg/ts1' }]);
    expect(mapTargets(example(), request()).targets[0]!.mappedBy).toBe('backup');
  });

  it('maps tablespaces by name, by oid, all at once, and refuses conflicts, unknown names and relative paths', () => {
    expect(mapTargets(example(), request({ tablespaceMap: { ts1: '/a' } })).targets[1]).toMatchObject({
      path: '/a',
      mappedBy: 'tablespace-map',
    });
    expect(mapTargets(example(), request({ tablespaceMap: { 16384: '/b', ts1: '/b' } })).problems).toEqual([]);
    expect(mapTargets(example(), request({ tablespaceMapAll: '/all' })).targets[1]).toMatchObject({
      path: '/all/ts1',
      mappedBy: 'tablespace-map-all',
    });
    const conflict = mapTargets(example(), request({ tablespaceMap: { 16384: '/b', ts1: '/c' } }));
    expect(conflict.problems).toMatchObject([
      { error: 'TablespaceMap', message: "tablespace remapped by name 'ts1' and id 16384 with different paths" },
    ]);
    const unknown = mapTargets(example(), request({ tablespaceMap: { ts2: '/x' } }));
    expect(unknown.problems).toMatchObject([
      { message: "unable to remap invalid tablespace 'ts2'", hint: "the backup's tablespaces are: ts1 (oid 16384)" },
    ]);
    expect(mapTargets(example(), request({ tablespaceMap: { ts1: 'relative' } })).problems[0]!.message).toContain(
      'not an absolute path',
    );
  });

  it('refuses a target that holds a repository or lies within its backups or archive', () => {
    const repo = (index: number, path: string) => ({
      index,
      storage: new PosixStorage({ basePath: path }),
      stanza: 'demo',
      cipherPass: undefined,
    });
    const messages = (overrides: Partial<RestoreRequest>, repos = [repo(1, '/var/lib/pgbackrest')]) =>
      mapTargets(withLinks(), request({ repos, ...overrides })).problems.map((found) => [found.code, found.message]);
    // The data directory is /var/lib/postgresql/15/main: beside repo1, not around it
    expect(messages({})).toEqual([]);
    expect(messages({ pgPath: '/var/lib' })).toEqual([
      [40, 'the data directory /var/lib holds repo1 (/var/lib/pgbackrest): the restore would remove the repository'],
    ]);
    expect(messages({ pgPath: '/var/lib/pgbackrest/backup/demo/restored' })).toEqual([
      [40, "the data directory /var/lib/pgbackrest/backup/demo/restored is inside repo1's /var/lib/pgbackrest/backup"],
    ]);
    // A restore beside the repository's own directories, in its root, is harmless
    expect(messages({ pgPath: '/var/lib/pgbackrest/restored' })).toEqual([]);
    // repo2 is in the tablespace's version directory, which the restore cleans; a directory link to the repository
    expect(
      messages({ linkMap: { pg_wal: '/var/lib/pgbackrest' } }, [
        repo(1, '/var/lib/pgbackrest'),
        repo(2, '/srv/pg/ts1/PG_15_202209061/repo'),
      ]),
    ).toEqual([
      [
        40,
        "tablespace 'pg_tblspc/16384' (/srv/pg/ts1/PG_15_202209061) holds repo2 (/srv/pg/ts1/PG_15_202209061/repo): the restore would remove the repository",
      ],
      [40, "link 'pg_wal' (/var/lib/pgbackrest) holds repo1 (/var/lib/pgbackrest): the restore would remove the repository"],
    ]);
    // A file link replaces its file only
    expect(
      messages({ tablespaceMap: { ts1: '/srv/ts1' }, linkMap: { 'postgresql.conf': '/var/lib/pgbackrest/pg.conf' } }),
    ).toEqual([]);
  });

  it('restores links as plain directories and files unless --link-all or --link-map', () => {
    const plain = mapTargets(withLinks(), request());
    expect(plain.warnings).toEqual([
      "contents of directory link 'pg_wal' will be restored in a directory at the same location",
      "file link 'postgresql.conf' will be restored as a file at the same location",
    ]);
    expect(plain.targets.map((target) => target.kind)).toEqual(['data', 'tablespace']);
    const all = mapTargets(withLinks(), request({ linkAll: true }));
    expect(all.targets.slice(2).map((target) => [target.name, target.kind, target.absolutePath, target.file])).toEqual([
      ['pg_data/pg_wal', 'path-link', '/var/lib/postgresql/15/wal', null],
      ['pg_data/postgresql.conf', 'file-link', '/etc/pg', 'postgresql.conf'],
    ]);
    const mapped = mapTargets(
      withLinks(),
      request({
        linkMap: { pg_wal: '/wal2', 'postgresql.conf': '/etc/other/pg.conf', pg_stat: '/stat', PG_VERSION: '/v/PG_VERSION' },
      }),
    );
    expect(mapped.problems).toEqual([]);
    expect(mapped.targets.slice(2).map((target) => [target.name, target.path, target.file, target.mappedBy])).toEqual([
      ['pg_data/PG_VERSION', '/v', 'PG_VERSION', 'link-map'],
      ['pg_data/pg_stat', '/stat', null, 'link-map'],
      ['pg_data/pg_wal', '/wal2', null, 'link-map'],
      ['pg_data/postgresql.conf', '/etc/other', 'pg.conf', 'link-map'],
    ]);
    expect(mapped.links.get('pg_data/postgresql.conf')!.destination).toBe('/etc/other/pg.conf');
    expect(mapped.links.get('pg_data/pg_stat')!.destination).toBe('/stat');
  });

  it('refuses link maps that cannot be', () => {
    const problems = (linkMap: Record<string, string>) =>
      mapTargets(withLinks(), request({ linkMap })).problems.map((entry) => entry.message);
    expect(problems({ 'pg_tblspc/16384': '/x' })).toEqual(["unable to remap tablespace 'pg_tblspc/16384'"]);
    expect(problems({ nothing: '/x' })).toEqual(["unable to map link 'nothing'"]);
    expect(problems({ 'postgresql.conf': 'name-only' })).toEqual([
      "'name-only' is not long enough to be the destination for file link 'postgresql.conf'",
    ]);
  });

  it('checks link destinations: not in the data directory, not shared, not nested', () => {
    const problems = (overrides: Partial<RestoreRequest>) =>
      mapTargets(withLinks(), request({ linkAll: true, ...overrides })).problems.map((entry) => entry.message);
    expect(problems({ tablespaceMap: { ts1: '/var/lib/postgresql/15/main/ts' } })).toEqual([
      "link 'pg_tblspc/16384' destination '/var/lib/postgresql/15/main/ts' is in PGDATA",
    ]);
    expect(problems({ tablespaceMap: { ts1: '/var/lib/postgresql/15/wal' } })).toEqual([
      'link pg_tblspc/16384 (/var/lib/postgresql/15/wal) destination is the same directory as link pg_wal (/var/lib/postgresql/15/wal)',
    ]);
    expect(problems({ tablespaceMap: { ts1: '/var/lib/postgresql/15/wal/ts' } })).toEqual([
      'link pg_tblspc/16384 (/var/lib/postgresql/15/wal/ts) destination is a subdirectory of link pg_wal (/var/lib/postgresql/15/wal)',
    ]);
    expect(problems({ linkMap: { pg_wal: '/var/lib' } })[0]).toContain(
      'the data directory /var/lib/postgresql/15/main is inside the destination of link pg_wal',
    );
    const inside = mapTargets(example(), request({ pgPath: '/ts/PG_15_202209061/data', tablespaceMap: { ts1: '/ts' } })).problems;
    expect(inside.map((entry) => entry.message)).toEqual([
      'the data directory /ts/PG_15_202209061/data is inside tablespace pg_tblspc/16384 (/ts)',
    ]);
    expect(problems({ linkMap: { 'postgresql.conf': '/etc/pg/x', PG_VERSION: '/etc/pg/x' } })).toEqual([
      'link PG_VERSION (/etc/pg)/x destination is the same file as link postgresql.conf (/etc/pg)/x',
    ]);
    expect(problems({ linkMap: { 'postgresql.conf': '/etc/pg/x', PG_VERSION: '/etc/pg/y' } })).toEqual([]);
    expect(problems({ linkMap: { pg_wal: '/var/lib/postgresql/15/main/pg_wal2' } })[0]).toContain('is in PGDATA');
  });

  it('places every manifest name (layout)', () => {
    const mapping = mapTargets(withLinks(), request({ linkAll: true, pgPath: '/pg', tablespaceMap: { ts1: '/ts' } }));
    const layout = new RestoreLayout(mapping.targets);
    expect(layout.destination('pg_data')).toBe('/pg');
    expect(layout.destination('pg_data/base/5/1')).toBe('/pg/base/5/1');
    expect(layout.destination('pg_data/pg_wal/x')).toBe('/wal/x');
    expect(layout.destination('pg_data/postgresql.conf')).toBe('/etc/pg/postgresql.conf');
    expect(layout.destination('pg_tblspc/16384/PG_15_202209061/5/1')).toBe('/ts/PG_15_202209061/5/1');
    expect(layout.destination('pg_tblspc')).toBe('/pg/pg_tblspc');
    expect(layout.targetOf('pg_tblspc/99/x').name).toBe('pg_data');
    expect(layout.linkLocation('pg_data/pg_tblspc/16384')).toBe('/pg/pg_tblspc/16384');
    expect(layout.linkLocation('pg_data/pg_wal')).toBe('/pg/pg_wal');
    expect(layout.queueOf('pg_tblspc/16384/PG_15_202209061/5/1')).toBe('pg_tblspc/16384');
    expect(layout.queueOf('pg_data/pg_wal/x')).toBe('pg_data');
  });
});

describe('the request from the configuration', () => {
  const CONF = `[demo]\npg1-path=/var/lib/postgresql/15/main\n\n[global]\nrepo1-path=/var/lib/pgbackrest\nprocess-max=2\nlog-level-console=info\n`;
  const config = (args: string[], env = {}) =>
    resolveConfig({
      command: 'restore',
      commandLine: parseCommandLine([...args, 'restore']),
      env,
      io: memoryIo({ '/etc/pgkeep/pgkeep.conf': CONF }),
    });

  it('passes archive-get the options given on the command line that it takes, in option order', () => {
    const given = config(
      [
        '--stanza=demo',
        '--pg1-path=/srv/restore',
        '--repo=1',
        '--process-max=4',
        '--log-level-console=detail',
        '--delta',
        '--type=time',
        '--target=2026-11-21 04:56:00+00',
        '--no-neutral-umask',
        '--log-path=/var/log/pg keep',
        '--buffer-size=2MiB',
      ],
      { PGKEEP_LOCK_PATH: '/tmp/locks' },
    );
    expect(archiveGetCommand(given, '/usr/bin/pgkeep')).toBe(
      '/usr/bin/pgkeep --buffer-size=2MiB --log-path="/var/log/pg keep" --no-neutral-umask --pg1-path=/srv/restore --repo=1 --stanza=demo archive-get',
    );
  });

  it('turns the options into a request', () => {
    const made = requestFromConfig(
      config([
        '--stanza=demo',
        '--type=name',
        '--target=point',
        '--target-action=promote',
        '--tablespace-map=ts1=/ts',
        '--link-map=pg_wal=/wal',
        '--recovery-option=primary_conninfo=host=x',
        '--set=20261121-045159F',
        '--archive-mode=off',
        '--cmd=/opt/pgkeep',
      ]),
    );
    expect(made).toMatchObject({
      stanza: 'demo',
      pgPath: '/var/lib/postgresql/15/main',
      set: '20261121-045159F',
      type: 'name',
      typeGiven: true,
      target: 'point',
      targetAction: 'promote',
      tablespaceMap: { ts1: '/ts' },
      linkMap: { pg_wal: '/wal' },
      recoveryOptions: { primary_conninfo: 'host=x' },
      archiveMode: 'off',
      processMax: 2,
      jobRetry: 2,
      jobRetryIntervalMs: 15000,
      archiveGetCommand: '/opt/pgkeep --stanza=demo archive-get',
    });
    expect(made.repos.map((repo) => repo.index)).toEqual([1]);
    const defaults = requestFromConfig(config(['--stanza=demo']), 'pgkeep');
    expect(defaults).toMatchObject({
      set: undefined,
      type: 'default',
      typeGiven: false,
      delta: false,
      linkAll: false,
      targetAction: undefined,
    });
    expect(requestFromConfig(config(['--stanza=demo', '--set=latest']), 'pgkeep').set).toBeUndefined();
  });
});

describe('the plan as text', () => {
  const base: RestorePlanJson = {
    format: 1,
    createdAt: '2026-11-21T05:00:00.000Z',
    stanza: 'demo',
    ok: false,
    request: {} as RestorePlanJson['request'],
    backup: {
      repo: 1,
      label: '20261121-045159F',
      type: 'full',
      selectedBy: 'target',
      timestampStart: 1795236719,
      timestampStop: 1795236722,
      lsnStart: '0/3000028',
      lsnStop: '0/4000050',
      archiveStart: '000000010000000000000003',
      archiveStop: '000000010000000000000004',
      online: true,
      references: ['20261121-045159F'],
      pgVersion: '15',
      systemId: '7710482956265128591',
      compressType: 'lz4',
      path: '/repo/backup/demo/20261121-045159F',
    },
    selective: null,
    targets: [
      {
        name: 'pg_data',
        kind: 'data',
        originalPath: '/a',
        path: '/b',
        file: null,
        tablespaceId: null,
        tablespaceName: null,
        mappedBy: 'pg1-path',
        restorePath: '/b',
        exists: true,
        empty: false,
        filesystem: 'dev:1',
        stagingPath: '/b/.s',
      },
      {
        name: 'pg_tblspc/1',
        kind: 'tablespace',
        originalPath: '/t',
        path: '/t',
        file: null,
        tablespaceId: 1,
        tablespaceName: 'ts',
        mappedBy: 'backup',
        restorePath: '/t/PG',
        exists: false,
        empty: true,
        filesystem: 'dev:1',
        stagingPath: '/t/.s',
      },
      {
        name: 'pg_data/x.conf',
        kind: 'file-link',
        originalPath: '/e/x.conf',
        path: '/e',
        file: 'x.conf',
        tablespaceId: null,
        tablespaceName: null,
        mappedBy: 'backup',
        restorePath: '/e',
        exists: true,
        empty: true,
        filesystem: 'dev:1',
        stagingPath: '/e/.s',
      },
    ],
    paths: [],
    links: [{ name: 'pg_data/pg_tblspc/1', path: '/b/pg_tblspc/1', destination: '/t', action: 'keep', user: null, group: null }],
    files: Array.from({ length: 30 }, (_, index) => ({
      name: `pg_data/f${index}`,
      path: `/b/f${index}`,
      action: index === 0 ? ('keep' as const) : ('replace' as const),
      reason: 'checksum differs',
      size: 10,
      checksum: 'x',
      timestamp: 1,
      mode: 0o600,
      user: null,
      group: null,
      repo: index === 0 ? null : { path: '/r', offset: null, limit: null, size: 5, compressType: 'lz4', label: 'l' },
      truncateFrom: null,
      zeroed: false,
      queue: 'pg_data',
      target: 'pg_data',
    })),
    removals: [{ path: '/b/junk', type: 'file', reason: 'not in the backup' }],
    summary: {
      files: { total: 30, create: 0, replace: 29, keep: 1, zeroed: 0 },
      fetchFiles: 29,
      removals: 1,
      pathsCreate: 0,
      linksCreate: 0,
      bytes: { total: 300, fetch: 290, fetchRepo: 145, keep: 10 },
    },
    space: [{ filesystem: 'dev:1', paths: ['/b'], needed: 290, free: 100, enough: false }],
    wal: {
      segmentSize: 16777216,
      backupTimeline: 1,
      targetTimeline: 2,
      timelines: [1, 2],
      archiveIds: ['15-1'],
      consistency: { first: '000000010000000000000003', last: '000000010000000000000004' },
      needed: { first: '000000010000000000000003', last: null, count: null },
      endOfArchive: {
        segment: '000000020000000000000009',
        lsn: '0/9000100',
        lastCommitTime: 1795237000.5,
        gapBefore: '000000020000000000000008',
      },
      missing: ['000000020000000000000008'],
      complete: false,
      target: {
        type: 'time',
        value: '2026-11-21 05:00:00+00',
        status: 'unreachable',
        detail: 'after the end',
        recoverable: { from: 'a', to: 'b' },
      },
    },
    recovery: {
      type: 'time',
      file: 'postgresql.auto.conf',
      settings: [{ key: 'restore_command', value: 'x' }],
      signalFile: 'recovery.signal',
      restoreCommand: 'x',
    },
    problems: [
      { error: 'SpaceInsufficient', code: 138, message: 'not enough space', hint: 'free some' },
      { error: 'Format', code: 29, message: 'other', hint: null },
    ],
    warnings: ['a warning'],
    notes: ['a note'],
    stagingName: '.s',
  };

  it('shows what the restore would do and why it would not run', () => {
    const text = renderPlanText(base);
    expect(text).toContain('restore plan for stanza demo: 2 problems, the restore would not run');
    expect(text).toContain('backup set: 20261121-045159F (full, repo1, the newest before the target)');
    expect(text).toContain('pg_data => /b (pg1-path, was /a): exists, not empty');
    expect(text).toContain('pg_tblspc/1 [ts] => /t: created');
    expect(text).toContain('pg_data/x.conf => /e/x.conf: exists, empty');
    expect(text).toContain('30 files, 300B: create 0, replace 29, keep 1 (10B)');
    expect(text).toContain('... and 9 more (--output=json lists all)');
    expect(text).toContain('/b/junk (file: not in the backup)');
    expect(text).toContain('link /b/pg_tblspc/1 -> /t (exists)');
    expect(text).toContain('/b: 290B needed, 100B free - NOT ENOUGH');
    expect(text).toContain('timeline 1 to 2 (via 1, 2), archive 15-1');
    expect(text).toContain('000000020000000000000008 MISSING before later WAL');
    expect(text).toContain("target time '2026-11-21 05:00:00+00': unreachable - after the end");
    expect(text).toContain('    [138] SpaceInsufficient: not enough space\n        HINT: free some');
    expect(text).toContain('    [029] Format: other\n');
  });

  it('short forms: no backup, preserve, nothing to list', () => {
    const text = renderPlanText({
      ...base,
      ok: true,
      backup: null,
      targets: [],
      files: [],
      removals: [],
      space: [{ filesystem: 'x', paths: ['/b'], needed: 0, free: null, enough: true }],
      wal: {
        ...base.wal!,
        targetTimeline: 1,
        endOfArchive: { ...base.wal!.endOfArchive!, lastCommitTime: null, gapBefore: null },
        missing: [],
        needed: { first: 'a', last: 'b', count: 2 },
        target: { ...base.wal!.target, value: null, recoverable: null },
      },
      recovery: { type: 'preserve', file: null, settings: [], signalFile: null, restoreCommand: null },
      problems: [],
      warnings: [],
      notes: [],
    });
    expect(text).toContain('restore plan for stanza demo: ready');
    expect(text).toContain('backup set: none');
    expect(text).toContain('free space unknown');
    expect(text).toContain('existing recovery settings are kept (preserve)');
    const other = renderPlanText({
      ...base,
      backup: { ...base.backup!, selectedBy: 'set', lsnStart: null },
      recovery: { ...base.recovery, settings: [], signalFile: null },
      problems: [base.problems[0]!],
    });
    expect(other).toContain('chosen with --set');
    expect(other).toContain('no settings written to postgresql.auto.conf');
    expect(other).toContain('signal file: none');
    expect(other).toContain('1 problem,');
    expect(renderPlanText({ ...base, backup: { ...base.backup!, selectedBy: 'latest' } })).toContain('the latest');
  });
});
