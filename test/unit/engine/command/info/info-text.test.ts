import { afterEach, describe, expect, it } from 'vitest';

import { formatTime, renderInfoText } from '../../../../../engine/command/info/info-text.js';
import { INFO_STATUS, type InfoBackupJson, type InfoStanzaJson } from '../../../../../engine/repo/info-json.js';

/**
 * The layouts of `info` text that the oracle tests (test/integration/repo) cannot reach with a
 * repository pgbackrest can read: errors other than the known ones, a backup running, prior
 * clusters, backups with parts missing. The layouts are pgBackRest 2.45's (command/info/info.c);
 * the 'other' error's was checked against pgbackrest's output for a corrupted backup.info.
 */
const START = Date.UTC(2026, 10, 21, 10, 0, 0) / 1000;

function backup(label: string, overrides: Partial<InfoBackupJson> = {}): InfoBackupJson {
  return {
    archive: { start: '000000010000000000000002', stop: '000000010000000000000002' },
    backrest: { format: 5, version: '2.45' },
    database: { id: 1, 'repo-key': 1 },
    info: { delta: 2048, repository: { delta: 1024, size: 1024 }, size: 2048 },
    label,
    prior: null,
    reference: null,
    timestamp: { start: START, stop: START + 1 },
    type: 'full',
    ...overrides,
  };
}

function stanza(overrides: Partial<InfoStanzaJson> = {}): InfoStanzaJson {
  return {
    archive: [],
    backup: [],
    cipher: 'none',
    db: [{ id: 1, 'repo-key': 1, 'system-id': 7000000000000000001n, version: '15' }],
    name: 'main',
    repo: [{ cipher: 'none', key: 1, status: { ...INFO_STATUS.ok } }],
    status: { ...INFO_STATUS.ok, lock: { backup: { held: false } } },
    ...overrides,
  };
}

const render = (json: InfoStanzaJson, pctCplt?: number, set = false) =>
  renderInfoText([{ json, backupLock: pctCplt === undefined ? undefined : { execId: '1-x', pid: 1, pctCplt } }], { set });

/** The lines of the status and cipher block (what comes before the clusters). */
const head = (text: string) => text.split('\n\n')[0]!;

describe('info text: status', () => {
  it('shows a running backup and its progress after ok, and inside an error', () => {
    const held = { lock: { backup: { held: true } } };
    expect(head(render(stanza({ status: { ...INFO_STATUS.ok, ...held } }), 4507))).toBe(
      'stanza: main\n    status: ok (backup/expire running - 45.07% complete)\n    cipher: none',
    );
    expect(head(render(stanza({ db: [], status: { ...INFO_STATUS.noBackup, ...held } })))).toBe(
      'stanza: main\n    status: error (no valid backups, backup/expire running)\n    cipher: none\n',
    );
  });

  it("shows an 'other' error's message under it, each line indented (one repository)", () => {
    const message = "[ChecksumError] unable to load info file 'a' or 'a.copy':\nChecksumError: invalid checksum";
    const text = render(
      stanza({
        db: [],
        repo: [{ cipher: 'none', key: 1, status: { code: INFO_STATUS.other.code, message } }],
        status: { ...INFO_STATUS.other, lock: { backup: { held: false } } },
      }),
    );
    expect(text).toBe(
      'stanza: main\n    status: error (other)\n' +
        "            [ChecksumError] unable to load info file 'a' or 'a.copy':\n" +
        '            ChecksumError: invalid checksum\n' +
        '    cipher: none\n',
    );
  });

  it('shows each repository when they differ, an other error under its repository, and each cipher when they differ', () => {
    const text = render(
      stanza({
        cipher: 'mixed',
        repo: [
          { cipher: 'none', key: 1, status: { ...INFO_STATUS.ok } },
          { cipher: 'aes-256-cbc', key: 2, status: { code: INFO_STATUS.other.code, message: '[FormatError] bad\nsecond line' } },
          { cipher: 'none', key: 3, status: { ...INFO_STATUS.missingStanzaPath } },
        ],
        status: { ...INFO_STATUS.mixed, lock: { backup: { held: true } } },
      }),
    );
    expect(head(text)).toBe(
      'stanza: main\n    status: mixed (backup/expire running)\n' +
        '        repo1: ok\n' +
        '        repo2: error (other)\n' +
        '               [FormatError] bad\n' +
        '               second line\n' +
        '        repo3: error (missing stanza path)\n' +
        '    cipher: mixed\n        repo1: none\n        repo2: aes-256-cbc\n        repo3: none',
    );
  });

  it('shows no cipher for a stanza found on no repository', () => {
    const missing = { ...INFO_STATUS.missingStanzaPath };
    expect(
      render(
        stanza({
          db: [],
          repo: [{ cipher: 'none', key: 1, status: missing }],
          status: { ...missing, lock: { backup: { held: false } } },
        }),
      ),
    ).toBe('stanza: main\n    status: error (missing stanza path)\n');
  });
});

describe('info text: clusters and backups', () => {
  const current = { id: 2, 'repo-key': 1, 'system-id': 7000000000000000002n, version: '16' };
  const prior = { id: 1, 'repo-key': 1, 'system-id': 7000000000000000001n, version: '15' };
  const priorOnRepo2 = { ...prior, 'repo-key': 2 };

  it('lists prior clusters with WAL or backups first, merging their WAL ranges across repositories', () => {
    const text = render(
      stanza({
        db: [prior, priorOnRepo2, { id: 3, 'repo-key': 1, 'system-id': 9n, version: '14' }, current],
        archive: [
          { database: { id: 1, 'repo-key': 1 }, id: '15-1', min: '000000010000000000000003', max: '000000010000000000000004' },
          { database: { id: 1, 'repo-key': 2 }, id: '15-1', min: '000000010000000000000001', max: '000000010000000000000009' },
          { database: { id: 1, 'repo-key': 2 }, id: '15-1', min: '000000010000000000000002', max: '000000010000000000000005' },
          { database: { id: 2, 'repo-key': 1 }, id: '16-2', min: null, max: null },
        ],
        backup: [
          backup('20261121-100000F'),
          // Its cluster is in no db entry: not shown.
          backup('20261121-110000F', { database: { id: 7, 'repo-key': 1 } }),
        ],
      }),
    );
    expect(text.split('\n').filter((line) => line.startsWith('    db') || line.includes('wal archive'))).toEqual([
      '    db (prior)',
      '        wal archive min/max (15): 000000010000000000000001/000000010000000000000009',
      '    db (current)',
      '        wal archive min/max (16): none present',
    ]);
    expect(text).toContain('full backup: 20261121-100000F');
    expect(text).not.toContain('20261121-110000F');
  });

  it('prints what a backup lacks as pgBackRest does, and with --set its lsns and annotations', () => {
    const json = stanza({
      backup: [
        backup('20261121-100000F', {
          archive: { start: null, stop: null },
          info: { delta: 0, repository: { delta: 0 }, size: 0 },
          'database-ref': [],
          error: true,
          lsn: { start: '0/2000028', stop: '0/2000100' },
          annotation: { source: 'test' },
        }),
        backup('20261121-100000F_20261121-110000I', {
          type: 'incr',
          error: true,
          'error-list': ['base/1/2', 'base/1/3'],
          'database-ref': [{ name: 'postgres', oid: 5 }],
        }),
      ],
    });
    const lines = render(json, undefined, true).split('\n');
    expect(lines).toContain('            wal start/stop: n/a');
    expect(lines).toContain('            lsn start/stop: 0/2000028 / 0/2000100');
    expect(lines).toContain('            repo1: backup size: 0B');
    expect(lines).toContain('            database list: none');
    expect(lines).toContain('            error(s) detected during backup');
    expect(lines).toContain('            annotation(s)');
    expect(lines).toContain('                source: test');
    expect(lines).toContain('            error list: base/1/2, base/1/3');
    expect(lines).toContain('            database list: postgres (5)');
    // Without --set: neither
    const plain = render(json);
    expect(plain).not.toContain('lsn start/stop');
    expect(plain).not.toContain('annotation(s)');
  });
});

describe('formatTime', () => {
  const zone = process.env['TZ'];
  afterEach(() => {
    if (zone === undefined) delete process.env['TZ'];
    else process.env['TZ'] = zone;
  });

  it('prints the UTC offset, with minutes when it has some and a minus west of Greenwich', () => {
    process.env['TZ'] = 'America/St_Johns'; // -03:30 in November
    expect(formatTime(START)).toBe('2026-11-21 06:30:00-03:30');
    process.env['TZ'] = 'Asia/Kolkata';
    expect(formatTime(START)).toBe('2026-11-21 15:30:00+05:30');
    process.env['TZ'] = 'UTC';
    expect(formatTime(START)).toBe('2026-11-21 10:00:00+00');
  });
});
