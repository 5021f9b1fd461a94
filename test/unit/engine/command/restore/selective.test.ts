import { describe, expect, it } from 'vitest';

import { selectDatabases } from '../../../../../engine/command/restore/selective.js';
import { parseManifest, type Manifest } from '../../../../../engine/repo/manifest/manifest.js';
import { exampleText } from '../../repo/examples.js';
import { failure } from '../../../failure.js';

const TS = 'pg_tblspc/16384/PG_15_202209061';

/**
 * pgBackRest's example manifest (system databases 1, 4, 5 and a tablespace) plus user databases:
 * app (16385, with a table in the tablespace), other (16386), and 16387, which only its files show
 * (made after the backup read pg_database).
 */
function manifest(): Manifest {
  const result = parseManifest(exampleText('full-lz4.backup.manifest'), 'full-lz4.backup.manifest');
  const template = result.files.get('pg_data/base/5/PG_VERSION')!;
  for (const name of [
    'pg_data/base/16385/PG_VERSION',
    'pg_data/base/16385/16400',
    `${TS}/16385/PG_VERSION`,
    `${TS}/16385/16401`,
    'pg_data/base/16386/PG_VERSION',
    'pg_data/base/16386/16500',
    'pg_data/base/16387/PG_VERSION',
    'pg_data/base/16387/1',
  ])
    result.files.set(name, { ...template, name });
  result.databases.set('app', { name: 'app', id: 16385, lastSystemId: 16384 });
  result.databases.set('other', { name: 'other', id: 16386, lastSystemId: 16384 });
  return result;
}

const zeroedIds = (include: string[], exclude: string[]) =>
  selectDatabases(manifest(), include, exclude)!
    .json.databases.filter((db) => db.zeroed)
    .map((db) => db.id);

describe('selective restore (--db-include, --db-exclude)', () => {
  it('is off without either option', () => {
    expect(selectDatabases(manifest(), [], [])).toBeUndefined();
  });

  it('lists every database of the backup: the system ones of [db] and those with a PG_VERSION', () => {
    expect(selectDatabases(manifest(), ['app'], [])!.json.databases).toEqual([
      { id: 1, name: 'template1', system: true, zeroed: false },
      { id: 4, name: 'template0', system: true, zeroed: false },
      { id: 5, name: 'postgres', system: true, zeroed: false },
      { id: 16385, name: 'app', system: false, zeroed: false },
      { id: 16386, name: 'other', system: false, zeroed: true },
      { id: 16387, name: null, system: false, zeroed: true },
    ]);
  });

  it('with --db-include, zeroes every other user database, in base and in tablespaces, except PG_VERSION', () => {
    const { zeroed } = selectDatabases(manifest(), ['app'], [])!;
    expect(zeroed('pg_data/base/16386/16500')).toBe(true);
    expect(zeroed('pg_data/base/16387/1')).toBe(true);
    expect(zeroed('pg_data/base/16386/PG_VERSION')).toBe(false);
    expect(zeroed('pg_data/base/16385/16400')).toBe(false);
    expect(zeroed(`${TS}/16385/16401`)).toBe(false);
    expect(zeroed('pg_data/base/5/1259')).toBe(false);
    expect(zeroed('pg_data/global/1262')).toBe(false);
    expect(zeroed('pg_data/base/16386')).toBe(false);
  });

  it('with --db-exclude alone, zeroes only the excluded databases, named by name or oid', () => {
    const { zeroed } = selectDatabases(manifest(), [], ['app'])!;
    expect(zeroed('pg_data/base/16385/16400')).toBe(true);
    expect(zeroed(`${TS}/16385/16401`)).toBe(true);
    expect(zeroed(`${TS}/16385/PG_VERSION`)).toBe(false);
    expect(zeroed(`pg_tblspc/16384/PG_14_202107181/16385/16401`)).toBe(false);
    expect(zeroed('pg_data/base/16386/16500')).toBe(false);
    expect(zeroedIds([], ['16387'])).toEqual([16387]);
  });

  it('restores the system databases with --db-include unless they are excluded too', () => {
    expect(zeroedIds(['16386'], [])).toEqual([16385, 16387]);
    expect(zeroedIds(['app'], ['postgres'])).toEqual([5, 16386, 16387]);
    expect(zeroedIds([], ['template1'])).toEqual([1]);
  });

  it('zeroes nothing when every user database is included', () => {
    const selection = selectDatabases(manifest(), ['app', 'other', '16387'], [])!;
    expect(selection.json.databases.every((db) => !db.zeroed)).toBe(true);
    expect(selection.zeroed('pg_data/base/16386/16500')).toBe(false);
  });

  it('refuses a database the backup does not have, naming those it has (DbMissing, as pgbackrest)', () => {
    const included = failure(() => selectDatabases(manifest(), ['nope'], []));
    expect(included).toMatchObject({ errorName: 'DbMissing', code: 80, message: "database to include 'nope' does not exist" });
    expect(included.hint).toContain('app (16385), other (16386), 16387');
    expect(failure(() => selectDatabases(manifest(), [], ['99999'])).message).toBe("database to exclude '99999' does not exist");
  });

  it('refuses to include a system database, or one that is also excluded (DbInvalid, as pgbackrest)', () => {
    expect(failure(() => selectDatabases(manifest(), ['postgres'], []))).toMatchObject({
      errorName: 'DbInvalid',
      code: 81,
      message: 'system databases (template0, postgres, etc.) are included by default',
    });
    expect(failure(() => selectDatabases(manifest(), ['1'], [])).errorName).toBe('DbInvalid');
    expect(failure(() => selectDatabases(manifest(), ['app'], ['16385'])).message).toBe(
      "database to include 'app' is in the exclude list",
    );
  });

  it('refuses a backup without databases', () => {
    const empty = manifest();
    empty.databases.clear();
    for (const name of [...empty.files.keys()]) if (name.endsWith('/PG_VERSION')) empty.files.delete(name);
    expect(failure(() => selectDatabases(empty, ['app'], []))).toMatchObject({
      errorName: 'Format',
      message: 'no databases found for selective restore',
      hint: 'is this a valid cluster?',
    });
  });
});
