import { describe, expect, it } from 'vitest';

import { backupStartSql, backupStopSql, PgClient, pgErrorText, supportedVersion } from '../../../../engine/postgres/client.js';
import { pgVersionByString } from '../../../../engine/postgres/version-table.js';

// The live behaviour is in test/integration/postgres/client.test.ts (PostgreSQL 15); the queries of
// the versions not installed here are checked against what pgBackRest 2.45 sends (src/db/db.c).
describe('backup queries', () => {
  const select = 'select lsn::text as lsn, pg_catalog.pg_walfile_name(lsn)::text as wal_segment_name';
  const stopColumns = `${select}, labelfile::text as backup_label, spcmapfile::text as tablespace_map`;

  it('starts a non-exclusive backup with pg_start_backup(label, fast, false) on 12-14', () => {
    for (const version of ['12', '13', '14']) {
      expect(backupStartSql(pgVersionByString(version), undefined, true)).toBe(
        `${select} from pg_catalog.pg_start_backup('pgkeep backup started at ' || current_timestamp, true, false) as lsn`,
      );
    }
    expect(backupStartSql(pgVersionByString('14'), 'my label', false)).toBe(
      `${select} from pg_catalog.pg_start_backup($1::text, false, false) as lsn`,
    );
  });

  it('starts with pg_backup_start(label, fast) from 15', () => {
    for (const version of ['15', '16', '17', '18']) {
      expect(backupStartSql(pgVersionByString(version), 'x', true)).toBe(
        `${select} from pg_catalog.pg_backup_start($1::text, true) as lsn`,
      );
    }
    expect(backupStartSql(pgVersionByString('15'), undefined, false)).toBe(
      `${select} from pg_catalog.pg_backup_start('pgkeep backup started at ' || current_timestamp, false) as lsn`,
    );
  });

  it('stops with pg_stop_backup(false, wait) on 12-14 and pg_backup_stop(wait) from 15', () => {
    expect(backupStopSql(pgVersionByString('12'), false)).toBe(`${stopColumns} from pg_catalog.pg_stop_backup(false, false)`);
    expect(backupStopSql(pgVersionByString('14'), true)).toBe(`${stopColumns} from pg_catalog.pg_stop_backup(false, true)`);
    expect(backupStopSql(pgVersionByString('15'), false)).toBe(`${stopColumns} from pg_catalog.pg_backup_stop(false)`);
    expect(backupStopSql(pgVersionByString('18'), true)).toBe(`${stopColumns} from pg_catalog.pg_backup_stop(true)`);
  });
});

describe('PgClient.connect', () => {
  it('fails with DbConnect naming the socket directory and port when nothing listens there', async () => {
    await expect(
      PgClient.connect({ socketPath: '/nonexistent-pgkeep-socket-dir', port: 5999, database: 'postgres', timeoutMs: 2000 }),
    ).rejects.toMatchObject({
      errorName: 'DbConnect',
      message: expect.stringMatching(
        /^unable to connect to PostgreSQL on socket '\/nonexistent-pgkeep-socket-dir' port 5999 \(database 'postgres'\): .*ENOENT/,
      ) as unknown,
    });
  });

  it('uses the default socket directory when given neither socket nor host', async () => {
    const error = await PgClient.connect({ port: 1, database: 'postgres', timeoutMs: 2000 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      errorName: 'DbConnect',
      message: expect.stringContaining("socket '/var/run/postgresql' port 1") as unknown,
    });
  });
});

describe('pgErrorText', () => {
  it('adds the SQLSTATE of a server error and spells out an AggregateError of a multi-address connect', () => {
    expect(pgErrorText(Object.assign(new Error('database "x" does not exist'), { code: '3D000' }))).toBe(
      'database "x" does not exist (SQLSTATE 3D000)',
    );
    expect(pgErrorText(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe(
      'connect ECONNREFUSED 127.0.0.1:1',
    );
    const both = new AggregateError([new Error('connect ECONNREFUSED ::1:1'), new Error('connect ECONNREFUSED 127.0.0.1:1')], '');
    expect(pgErrorText(both)).toBe('Error: connect ECONNREFUSED ::1:1; Error: connect ECONNREFUSED 127.0.0.1:1');
    expect(pgErrorText('plain text')).toBe('plain text');
  });
});

describe('supportedVersion', () => {
  it('names the server whose version pgkeep does not support', () => {
    expect(supportedVersion(150018, "socket '/run/postgresql' port 5432").version).toBe('15');
    expect(() => supportedVersion(110022, "socket '/run/postgresql' port 5432")).toThrow(
      "PostgreSQL server_version_num 110022 is not a supported version: the server on socket '/run/postgresql' port 5432",
    );
  });
});
