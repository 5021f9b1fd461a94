import { describe, expect, it } from 'vitest';

import { archiveRange } from '../../../../engine/repo/archive/archive-path.js';
import { parseArchiveInfo, type ArchiveInfo } from '../../../../engine/repo/info/archive-info.js';
import { parseBackupInfo, removeBackup, type BackupInfo } from '../../../../engine/repo/info/backup-info.js';
import { parseJson } from '../../../../engine/repo/info/json-value.js';
import { PgkeepError } from '../../../../engine/error/pgkeep-error.js';
import {
  backupJson,
  buildInfoJson,
  buildStanzaInfo,
  infoErrorState,
  renderInfoJson,
  type InfoRepoInput,
  type InfoStanzaInput,
} from '../../../../engine/repo/info-json.js';
import { parseManifest } from '../../../../engine/repo/manifest/manifest.js';
import { example, exampleText } from './examples.js';

const SHA = 'fc176140eafaa5a2c00f66ca84e7f19776359104';

/** An archive listing with the given oldest and newest segments (what the info command lists). */
function listing(min: string, max: string): ReadonlyMap<string, ReturnType<typeof archiveRange>> {
  const byDir = new Map<string, string[]>();
  for (const segment of [min, max, '000000010000000000000010']) {
    const dir = segment.slice(0, 16);
    byDir.set(dir, [...(byDir.get(dir) ?? []), `${segment}-${SHA}.lz4`]);
  }
  byDir.get(min.slice(0, 16))!.push(`${min}.00000028.backup`);
  return new Map([['15-1', archiveRange(byDir)]]);
}

/**
 * The inputs of the example info.json (taken with three repositories before `expire` ran):
 * repo1 is backup.info.with-foreign without the foreign backup written later, repo2 the encrypted
 * repository, repo3 the bundle/block-incremental one.
 */
function exampleInputs(): InfoStanzaInput {
  const repo1 = parseBackupInfo(example('backup.info.with-foreign'), 'repo1/backup.info');
  removeBackup(repo1, '20261121-050000F');
  const repo = (
    key: number,
    cipher: InfoRepoInput['cipher'],
    backupInfo: BackupInfo,
    archiveInfo: ArchiveInfo,
    min: string,
  ): InfoRepoInput => ({
    key,
    cipher,
    state: { kind: 'ok', backupInfo, archiveInfo, archiveRanges: listing(min, '000000020000000000000022') },
  });
  return {
    name: 'demo',
    repos: [
      repo(1, 'none', repo1, parseArchiveInfo(example('archive.info'), 'a'), '000000010000000000000003'),
      repo(
        2,
        'aes-256-cbc',
        parseBackupInfo(example('encrypted-repo.backup.info.decrypted'), 'b'),
        parseArchiveInfo(example('encrypted-repo.archive.info.decrypted'), 'a'),
        '000000010000000000000001',
      ),
      repo(
        3,
        'none',
        parseBackupInfo(example('backup.info.blockincr'), 'b'),
        parseArchiveInfo(example('archive.info'), 'a'),
        '000000010000000000000001',
      ),
    ],
  };
}

describe('info --output=json', () => {
  it('reproduces the real info.json of pgBackRest 2.45 byte for byte', () => {
    const json = buildInfoJson([exampleInputs()]);
    const expected = exampleText('info.json');
    expect(renderInfoJson(json)).toBe(expected.endsWith('\n') ? expected.slice(0, -1) : expected);
    expect(json).toEqual(parseJson(expected));
  });

  it('merges the backups of all repositories by stop time', () => {
    const stanza = buildStanzaInfo(exampleInputs());
    expect(stanza.backup.map((backup) => `${backup.database['repo-key']}:${backup.label}`)).toEqual([
      '1:20261121-045159F',
      '1:20261121-045159F_20261121-045203D',
      '1:20261121-045159F_20261121-045206I',
      '1:20261121-045159F_20261121-045207I',
      '2:20261121-045214F',
      '2:20261121-045214F_20261121-045216I',
      '3:20261121-045219F',
      '3:20261121-045219F_20261121-045221I',
      '3:20261121-045219F_20261121-045223I',
      '1:20261121-045300F',
      '1:20261121-045304F',
      '1:20261121-045308F',
    ]);
    expect(stanza.cipher).toBe('mixed');
    expect(stanza.status).toEqual({ code: 0, message: 'ok', lock: { backup: { held: false } } });
  });

  it('filters by type and by --set, and adds the manifest detail for --set', () => {
    const inputs = exampleInputs();
    expect(buildStanzaInfo({ ...inputs, type: 'diff' }).backup.map((backup) => backup.label)).toEqual([
      '20261121-045159F_20261121-045203D',
    ]);

    const manifest = parseManifest(example('diff-lz4.backup.manifest'), 'm');
    manifest.files.get('pg_data/base/5/16385')!.checksumPage = false;
    manifest.files.get('pg_tblspc/16384/PG_15_202209061/5/16390')!.checksumPage = false;
    manifest.targets.set('pg_data/pg_wal', { name: 'pg_data/pg_wal', type: 'link', path: '/srv/wal' });
    manifest.targets.set('pg_data/postgresql.conf', {
      name: 'pg_data/postgresql.conf',
      type: 'link',
      path: '/etc/pg',
      file: 'postgresql.conf',
    });
    manifest.annotation = { team: 'db' };
    const repos = inputs.repos.map((repo, index) =>
      index === 0 && repo.state.kind === 'ok' ? { ...repo, state: { ...repo.state, manifest } } : repo,
    );
    const set = buildStanzaInfo({ ...inputs, repos, set: '20261121-045159F_20261121-045203D' });
    expect(set.backup).toHaveLength(1);
    expect(set.backup[0]).toMatchObject({
      label: '20261121-045159F_20261121-045203D',
      'database-ref': [{ name: 'postgres', oid: 5 }],
      tablespace: [{ destination: '/srv/pg/ts1', name: 'ts1', oid: 16384 }],
      link: [
        { destination: '/srv/wal', name: 'pg_wal' },
        { destination: '/etc/pg/postgresql.conf', name: 'postgresql.conf' },
      ],
      error: true,
      'error-list': ['base/5/16385', 'pg_tblspc/16384/PG_15_202209061/5/16390'],
    });
    const plain = backupJson(
      parseBackupInfo(example('backup.info'), 'b').backups[0]!,
      1,
      parseManifest(example('full-none.backup.manifest'), 'm'),
    );
    expect(plain.link).toBeNull();
    expect(plain['error-list']).toBeUndefined();
  });

  it('reports a requested backup that no repository has', () => {
    const stanza = buildStanzaInfo({ ...exampleInputs(), set: '20200101-000000F' });
    expect(stanza.backup).toEqual([]);
    expect(stanza.db).toEqual([]);
    expect(stanza.repo.map((repo) => repo.status)).toEqual([
      { code: 6, message: 'requested backup not found' },
      { code: 6, message: 'requested backup not found' },
      { code: 6, message: 'requested backup not found' },
    ]);
    expect(stanza.status).toMatchObject({ code: 6, message: 'requested backup not found' });
  });

  it('reports missing, empty and failing repositories, and mixed status', () => {
    const inputs = exampleInputs();
    const empty = parseBackupInfo(example('backup.info'), 'b');
    empty.backups = [];
    const first = inputs.repos[0]!;
    const stanza = buildStanzaInfo({
      name: 'demo',
      backupLockHeld: true,
      repos: [
        { ...first, state: first.state.kind === 'ok' ? { ...first.state, backupInfo: empty } : first.state },
        { key: 2, cipher: 'none', state: { kind: 'missing-stanza-path' } },
        { key: 3, cipher: 'none', state: { kind: 'missing-stanza-data' } },
        { key: 4, cipher: 'none', state: { kind: 'error', errorName: 'FileMissingError', message: 'unable to open file' } },
      ],
    });
    expect(stanza.repo.map((repo) => repo.status)).toEqual([
      { code: 2, message: 'no valid backups' },
      { code: 1, message: 'missing stanza path' },
      { code: 3, message: 'missing stanza data' },
      { code: 99, message: '[FileMissingError] unable to open file' },
    ]);
    expect(stanza.status).toEqual({ code: 4, message: 'different across repos', lock: { backup: { held: true } } });
    expect(stanza.cipher).toBe('none');
    expect(stanza.archive).toHaveLength(1);

    const alone = buildStanzaInfo({ name: 'x', repos: [{ key: 1, cipher: 'none', state: { kind: 'missing-stanza-path' } }] });
    expect(alone.status).toMatchObject({ code: 1, message: 'missing stanza path' });
    const failing = buildStanzaInfo({
      name: 'x',
      repos: [{ key: 1, cipher: 'none', state: { kind: 'error', errorName: 'X', message: 'y' } }],
    });
    expect(failing.status).toMatchObject({ code: 99, message: 'other' });
  });

  it('reports a database mismatch across repositories', () => {
    const inputs = exampleInputs();
    const other = parseBackupInfo(example('backup.info'), 'b');
    other.history = [{ ...other.history[0]!, systemId: 1n }];
    const archive = parseArchiveInfo(example('archive.info'), 'a');
    archive.history = [{ ...archive.history[0]!, systemId: 1n }];
    const stanza = buildStanzaInfo({
      ...inputs,
      repos: [
        inputs.repos[0]!,
        { key: 2, cipher: 'none', state: { kind: 'ok', backupInfo: other, archiveInfo: archive, archiveRanges: new Map() } },
      ],
    });
    expect(stanza.status).toMatchObject({ code: 5, message: 'database mismatch across repos' });
    // A history entry with no archive that is not current is left out; the current one is shown with null min/max
    expect(stanza.archive.at(-1)).toEqual({ database: { id: 1, 'repo-key': 2 }, id: '15-1', max: null, min: null });
  });

  it('shows an archive id that is not current only when it has WAL', () => {
    const inputs = exampleInputs();
    const backupInfo = parseBackupInfo(example('backup.info'), 'b');
    backupInfo.history.push({ id: 2, systemId: 7710482956265128591n, version: '16', catalogVersion: 1, controlVersion: 1300 });
    backupInfo.currentId = 2;
    const archiveInfo = parseArchiveInfo(example('archive.info'), 'a');
    archiveInfo.history.push({ id: 2, systemId: 7710482956265128591n, version: '16' });
    archiveInfo.currentId = 2;
    const state = { kind: 'ok' as const, backupInfo, archiveInfo, archiveRanges: new Map() };
    expect(buildStanzaInfo({ ...inputs, repos: [{ key: 1, cipher: 'none', state }] }).archive.map((item) => item.id)).toEqual([
      '16-2',
    ]);
    const withWal = {
      ...state,
      archiveRanges: new Map([['15-1', { min: '000000010000000000000001', max: '000000010000000000000002' }]]),
    };
    expect(
      buildStanzaInfo({ ...inputs, repos: [{ key: 1, cipher: 'none', state: withWal }] }).archive.map((item) => item.id),
    ).toEqual(['15-1', '16-2']);
  });

  it('reports a repository whose archive.info does not match its backup.info as failing, and shows nothing of it', () => {
    const inputs = exampleInputs();
    const archive = parseArchiveInfo(example('archive.info'), 'a');
    archive.history = [{ ...archive.history[0]!, version: '14' }];
    const second = inputs.repos[1]!;
    const repos = [
      inputs.repos[0]!,
      { ...second, state: second.state.kind === 'ok' ? { ...second.state, archiveInfo: archive } : second.state },
    ];
    const stanza = buildStanzaInfo({ ...inputs, repos });
    expect(stanza.repo[1]!.status).toEqual({
      code: 99,
      message:
        "[ArchiveMismatchError] unable to retrieve the archive id for database version '15' and system-id '7710482956265128591'",
    });
    expect(stanza.db.map((db) => db['repo-key'])).toEqual([1]);
    expect(stanza.backup.every((backup) => backup.database['repo-key'] === 1)).toBe(true);
    expect(stanza.status).toMatchObject({ code: 4 });
    expect(infoErrorState(new PgkeepError('FileMissing', 'gone'))).toEqual({
      kind: 'error',
      errorName: 'FileMissingError',
      message: 'gone',
    });
  });

  it('shows only what backup.info recorded, and no tablespace list without tablespaces', () => {
    const entry = { ...parseBackupInfo(example('backup.info'), 'b').backups[0]! };
    entry.error = undefined;
    entry.lsnStop = undefined;
    entry.annotation = { a: 'b' };
    const manifest = parseManifest(example('full-none.backup.manifest'), 'm');
    manifest.targets.delete('pg_tblspc/16384');
    const json = backupJson(entry, 1, manifest);
    expect(json.error).toBeUndefined();
    expect(json.lsn).toBeUndefined();
    expect(json.annotation).toEqual({ a: 'b' });
    expect(json.tablespace).toBeNull();
    expect(buildStanzaInfo({ name: 'empty', repos: [] })).toMatchObject({
      cipher: 'none',
      status: { code: 0, message: 'ok' },
      backup: [],
    });
  });

  it('sorts stanzas by name', () => {
    const one = exampleInputs();
    expect(
      buildInfoJson([
        { ...one, name: 'zeta' },
        { ...one, name: 'alpha' },
      ]).map((stanza) => stanza.name),
    ).toEqual(['alpha', 'zeta']);
  });
});
