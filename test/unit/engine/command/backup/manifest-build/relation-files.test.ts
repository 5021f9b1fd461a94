import { describe, expect, it } from 'vitest';

import {
  relationCacheFile,
  rootContentExcluded,
  rootFileExcluded,
  tempRelationFile,
} from '../../../../../../engine/command/backup/manifest-build/exclusion-rules.js';
import {
  dbPathPattern,
  pageChecksumSegment,
  removeUnloggedRelations,
} from '../../../../../../engine/command/backup/manifest-build/relation-files.js';
import type { ManifestFile } from '../../../../../../engine/repo/manifest/manifest.js';

const TS_DIR = 'PG_15_202209061';

describe('pageChecksumSegment', () => {
  it('picks every file of a database directory but the unpaged ones, with its segment number', () => {
    const expected: [string, number | undefined][] = [
      ['pg_data/base/5/16384', 0],
      ['pg_data/base/5/16384.2', 2],
      ['pg_data/base/5/16384_fsm', 0],
      ['pg_data/base/5/16384_vm.1', 1],
      ['pg_data/base/5/16384_init', 0],
      ['pg_data/global/1262', 0],
      [`pg_tblspc/16385/${TS_DIR}/5/16390.17`, 17],
      // pgBackRest 2.45 validates any file there (and reports a stray one as invalid)
      ['pg_data/base/5/junk.txt', 0],
      ['pg_data/base/5/junk.3', 3],
      // not paged
      ['pg_data/base/5/pg_filenode.map', undefined],
      ['pg_data/base/5/PG_VERSION', undefined],
      ['pg_data/global/pg_filenode.map', undefined],
      ['pg_data/global/pg_control', undefined],
      [`pg_tblspc/16385/${TS_DIR}/5/PG_VERSION`, undefined],
      // not database directories
      ['pg_data/PG_VERSION', undefined],
      ['pg_data/base/16384', undefined],
      ['pg_data/base/5/sub/16384', undefined],
      ['pg_data/base/x5/16384', undefined],
      ['pg_data/pg_xact/0000', undefined],
      ['pg_data/global', undefined],
      [`pg_tblspc/16385/${TS_DIR}/16384`, undefined],
      [`pg_tblspc/16385/${TS_DIR}/5/sub/16384`, undefined],
      ['pg_tblspc/16385/other/5/16384', undefined],
      ['16384', undefined],
    ];
    expect(expected.map(([name]) => [name, pageChecksumSegment(name)])).toEqual(expected);
  });
});

describe('dbPathPattern', () => {
  it('matches global, base/<oid> and the tablespace database directories of one version', () => {
    const pattern = dbPathPattern(TS_DIR);
    expect(['pg_data/global', 'pg_data/base/1', `pg_tblspc/1/${TS_DIR}/5`].every((path) => pattern.test(path))).toBe(true);
    expect(
      ['pg_data/base', 'pg_data/base/1/2', `pg_tblspc/1/PG_14_202107181/5`, `pg_tblspc/1/PG_15X202209061/5`].some((path) =>
        pattern.test(path),
      ),
    ).toBe(false);
  });
});

describe('removeUnloggedRelations', () => {
  const file = (name: string): ManifestFile => ({
    name,
    size: 0,
    sizeRepo: 0,
    timestamp: 0,
    checksum: undefined,
    checksumRepo: undefined,
    reference: undefined,
    user: 'postgres',
    group: 'postgres',
    mode: 0o600,
  });
  const run = (names: string[]) => {
    const files = names.map(file);
    const byName = new Map(files.map((entry) => [entry.name, entry]));
    removeUnloggedRelations(files, byName, TS_DIR);
    return [...byName.keys()];
  };

  it('drops every fork and segment when an init fork is there, only in database directories', () => {
    expect(
      run([
        'pg_data/base/5/100',
        'pg_data/base/5/100.1',
        'pg_data/base/5/100_fsm',
        'pg_data/base/5/100_init',
        'pg_data/base/5/100_vm',
        'pg_data/base/5/1000',
        'pg_data/other/200',
        'pg_data/other/200_init',
        `pg_tblspc/7/${TS_DIR}/5/300`,
        `pg_tblspc/7/${TS_DIR}/5/300_init`,
      ]),
    ).toEqual([
      'pg_data/base/5/100_init',
      'pg_data/base/5/1000',
      'pg_data/other/200',
      'pg_data/other/200_init',
      `pg_tblspc/7/${TS_DIR}/5/300_init`,
    ]);
  });

  it('remembers the answer per relfilenode across directories, as pgBackRest does', () => {
    // base/5/100 is unlogged; base/6/100 follows with no other relation in between and shares the answer
    expect(run(['pg_data/base/5/100', 'pg_data/base/5/100_init', 'pg_data/base/5/PG_VERSION', 'pg_data/base/6/100'])).toEqual([
      'pg_data/base/5/100_init',
      'pg_data/base/5/PG_VERSION',
    ]);
    // another relation in between asks again
    expect(run(['pg_data/base/5/100', 'pg_data/base/5/100_init', 'pg_data/base/5/101', 'pg_data/base/6/100'])).toEqual([
      'pg_data/base/5/100_init',
      'pg_data/base/5/101',
      'pg_data/base/6/100',
    ]);
  });
});

describe('exclusion rules', () => {
  it('name the reset directories, the server files of the root, cache files and temporary relations', () => {
    expect(rootContentExcluded('pg_notify')).toBe(true);
    expect(rootContentExcluded('pg_stat')).toBe(false);
    expect(rootFileExcluded('postmaster.pid', 120000)).toBe(true);
    expect(rootFileExcluded('backup_manifest', 120000)).toBe(false);
    expect(rootFileExcluded('backup_manifest', 130000)).toBe(true);
    expect(rootFileExcluded('postgresql.conf', 180000)).toBe(false);
    expect(['pg_internal.init', 'pg_internal.init.77', 'pg_internal.init-x.1'].every(relationCacheFile)).toBe(true);
    expect(['pg_internal.ini', 'pg_internal.init.x', 'xpg_internal.init'].some(relationCacheFile)).toBe(false);
    expect(['t1_2', 't1_2_fsm', 't1_2_vm', 't1_2.3', 't1_2_fsm.3'].every(tempRelationFile)).toBe(true);
    expect(['t1_2_init', 't_2', 't1', '1_2', 't1_2.x', 't1_2_fsm_vm'].some(tempRelationFile)).toBe(false);
  });
});
