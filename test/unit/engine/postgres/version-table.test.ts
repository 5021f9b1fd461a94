import { describe, expect, it } from 'vitest';

import { isPgkeepError } from '../../../../engine/error/pgkeep-error.js';
import {
  pgControlMatches,
  pgVersionByControl,
  pgVersionByNum,
  pgVersionByString,
  pgVersionByWalMagic,
  pgVersions,
  tablespaceDirectoryName,
  type PgVersionFacts,
} from '../../../../engine/postgres/version-table.js';

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('version table', () => {
  it('has PostgreSQL 12 to 18 with their release control, catalog and WAL magic numbers', () => {
    expect(
      pgVersions.map((entry) => [entry.version, entry.versionNum, entry.controlVersion, entry.catalogVersion, entry.walMagic]),
    ).toEqual([
      ['12', 120000, 1201, 201909212, 0xd101],
      ['13', 130000, 1300, 202007201, 0xd106],
      ['14', 140000, 1300, 202107181, 0xd10d],
      ['15', 150000, 1300, 202209061, 0xd110],
      ['16', 160000, 1300, 202307071, 0xd113],
      ['17', 170000, 1700, 202406281, 0xd116],
      ['18', 180000, 1800, 202506291, 0xd118],
    ]);
    for (const entry of pgVersions) {
      expect(entry.walDirectory).toBe('pg_wal');
      expect(entry.unreleased).toBe(false);
      expect(entry.control).toMatchObject({ systemId: 0, controlVersion: 8, catalogVersion: 12, checkpoint: 32, timeline: 48 });
      expect(entry.control).toMatchObject({ blockSize: 216, walBlockSize: 224, walSegmentSize: 228, dataChecksumVersion: 252 });
      expect(entry.control.crc).toBe(entry.version === '18' ? 292 : 288);
    }
  });

  it('names the non-exclusive backup functions: pg_start_backup for 12-14, pg_backup_start from 15', () => {
    const functions = (entry: PgVersionFacts) => [
      entry.backupStartFunction,
      entry.backupStopFunction,
      entry.backupExclusiveArgument,
    ];
    expect(functions(pgVersionByString('12'))).toEqual(['pg_start_backup', 'pg_stop_backup', true]);
    expect(functions(pgVersionByString('14'))).toEqual(['pg_start_backup', 'pg_stop_backup', true]);
    expect(functions(pgVersionByString('15'))).toEqual(['pg_backup_start', 'pg_backup_stop', false]);
    expect(functions(pgVersionByString('18'))).toEqual(['pg_backup_start', 'pg_backup_stop', false]);
  });

  it('tells 13 to 16, which share control version 1300, apart by catalog number', () => {
    expect(pgVersionByControl(1300, 202007201).version).toBe('13');
    expect(pgVersionByControl(1300, 202107181).version).toBe('14');
    expect(pgVersionByControl(1300, 202209061).version).toBe('15');
    expect(pgVersionByControl(1300, 202307071).version).toBe('16');
    expect(pgVersionByControl(1201, 201909212).version).toBe('12');
    expect(pgVersionByControl(1800, 202506291).version).toBe('18');
  });

  it('refuses a catalog number of a released version that is not the release one, with what it found and what is supported', () => {
    const error = thrown(() => pgVersionByControl(1300, 202209062));
    expect(isPgkeepError(error, 'VersionNotSupported')).toBe(true);
    if (!isPgkeepError(error)) return;
    expect(error.code).toBe(46);
    expect(error.message).toBe('unexpected pg_control version 1300 and catalog version 202209062');
    expect(error.hint).toContain('pgkeep supports PostgreSQL 12, 13, 14, 15, 16, 17, 18');
    expect(
      isPgkeepError(
        thrown(() => pgVersionByControl(1100, 201809051)),
        'VersionNotSupported',
      ),
    ).toBe(true);
  });

  it('accepts a catalog range to the end of the year for a version in development', () => {
    const beta: PgVersionFacts = {
      ...pgVersionByString('18'),
      version: '19',
      controlVersion: 1902,
      catalogVersion: 202605131,
      unreleased: true,
    };
    expect(pgControlMatches(beta, 1902, 202605131)).toBe(true);
    expect(pgControlMatches(beta, 1902, 202612319)).toBe(true);
    expect(pgControlMatches(beta, 1902, 202700000)).toBe(false);
    expect(pgControlMatches(beta, 1902, 202605130)).toBe(false);
    expect(pgControlMatches(beta, 1800, 202605131)).toBe(false);
    expect(pgVersionByControl(1902, 202609011, [...pgVersions, beta]).version).toBe('19');
  });

  it('looks versions up by string, server_version_num and WAL magic', () => {
    expect(pgVersionByString('16').catalogVersion).toBe(202307071);
    expect(pgVersionByNum(150018).version).toBe('15');
    expect(pgVersionByNum(120000).version).toBe('12');
    expect(pgVersionByNum(180001).version).toBe('18');
    expect(pgVersionByWalMagic(0xd110).version).toBe('15');
    expect(pgVersionByWalMagic(0xd10d).version).toBe('14');
  });

  it('refuses unknown versions with VersionNotSupported saying what it found', () => {
    expect(thrown(() => pgVersionByString('11'))).toMatchObject({
      errorName: 'VersionNotSupported',
      message: "PostgreSQL version '11' is not supported",
    });
    expect(thrown(() => pgVersionByString('9.6'))).toMatchObject({ errorName: 'VersionNotSupported' });
    expect(thrown(() => pgVersionByNum(110022))).toMatchObject({
      message: 'PostgreSQL server_version_num 110022 is not a supported version',
    });
    expect(thrown(() => pgVersionByNum(190000))).toMatchObject({ errorName: 'VersionNotSupported' });
    expect(thrown(() => pgVersionByNum(150000.5))).toMatchObject({ errorName: 'VersionNotSupported' });
    expect(thrown(() => pgVersionByWalMagic(0xd098))).toMatchObject({
      errorName: 'VersionNotSupported',
      message: 'unexpected WAL magic 0xD098',
    });
  });

  it('names the tablespace directory PG_<major>_<catalog>', () => {
    expect(tablespaceDirectoryName(pgVersionByString('15'))).toBe('PG_15_202209061');
    expect(tablespaceDirectoryName(pgVersionByString('12'))).toBe('PG_12_201909212');
    expect(tablespaceDirectoryName(pgVersionByString('18'), 202506999)).toBe('PG_18_202506999');
  });
});
