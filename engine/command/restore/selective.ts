import { PgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { pgVersionByString, tablespaceDirectoryName } from '../../postgres/version-table.js';
import type { Manifest } from '../../repo/manifest/manifest.js';
import type { RestorePlanSelective } from './plan-json.js';

/** PostgreSQL's FirstNormalObjectId: databases with a lower oid were made by initdb. */
const FIRST_NORMAL_OID = 16384;
const SYSTEM_NAMES = new Set(['postgres', 'template0', 'template1']);
/** A database directory's PG_VERSION is restored even when the database is zeroed (pgBackRest does the same). */
const PG_VERSION = 'PG_VERSION';
const OID = /^[0-9]+$/;

/** Which databases a selective restore zeroes, and the test of a manifest file name against them. */
export interface DatabaseSelection {
  readonly json: RestorePlanSelective;
  /** Whether the file is restored as a sparse file of zeros (its database is excluded). */
  readonly zeroed: (name: string) => boolean;
}

/**
 * `--db-include` and `--db-exclude` (pgBackRest's restoreSelectiveExpression): the databases of
 * the backup are those with a PG_VERSION file in base/ or in a tablespace, plus the system ones of
 * the manifest's [db] section. Databases are named by name or oid. With --db-include, every user
 * database not included is zeroed (system databases are always restored unless excluded); with
 * --db-exclude alone, only the excluded ones are. Zeroed files keep their size as sparse files of
 * zeros, so that the recovered cluster starts and the databases can be dropped. Undefined when
 * neither option is given; throws what pgbackrest throws (Format, DbMissing, DbInvalid).
 */
export function selectDatabases(
  manifest: Manifest,
  include: readonly string[],
  exclude: readonly string[],
): DatabaseSelection | undefined {
  if (include.length === 0 && exclude.length === 0) return undefined;
  const tablespaceDir = tablespaceDirectoryName(pgVersionByString(manifest.db.version), manifest.db.catalogVersion);

  const names = new Map<number, string>();
  const system = new Set<number>();
  const found = new Set<number>();
  for (const db of manifest.databases.values()) {
    names.set(db.id, db.name);
    if (SYSTEM_NAMES.has(db.name) || db.id < FIRST_NORMAL_OID) {
      system.add(db.id);
      found.add(db.id);
    }
  }
  for (const name of manifest.files.keys()) {
    const file = databaseFile(name, tablespaceDir);
    if (file?.path !== PG_VERSION) continue;
    const id = file.id;
    // A system database made after the backup started is only in the file list
    if (id < FIRST_NORMAL_OID) system.add(id);
    found.add(id);
  }
  const ids = [...found].sort((a, b) => a - b);
  if (ids.length === 0)
    throw new PgkeepError('Format', 'no databases found for selective restore', { hint: 'is this a valid cluster?' });
  log.detail(`databases found for selective restore (${ids.join(', ')})`);

  const describe = () => ids.map((id) => (names.has(id) ? `${names.get(id)!} (${id})` : String(id))).join(', ');
  const resolveDb = (given: string, kind: 'include' | 'exclude'): number => {
    if (OID.test(given) && found.has(Number(given))) return Number(given);
    const db = manifest.databases.get(given);
    if (db === undefined || !found.has(db.id))
      throw new PgkeepError('DbMissing', `database to ${kind} '${given}' does not exist`, {
        hint: `the backup has these databases: ${describe()}`,
      });
    return db.id;
  };
  const excluded = new Set(exclude.map((given) => resolveDb(given, 'exclude')));
  const included = new Set<number>();
  for (const given of include) {
    const id = resolveDb(given, 'include');
    if (system.has(id))
      throw new PgkeepError('DbInvalid', 'system databases (template0, postgres, etc.) are included by default', {
        hint: `remove '${given}' from --db-include`,
      });
    if (excluded.has(id)) throw new PgkeepError('DbInvalid', `database to include '${given}' is in the exclude list`);
    included.add(id);
  }
  const zeroIds =
    include.length === 0
      ? ids.filter((id) => excluded.has(id))
      : ids.filter((id) => !included.has(id) && (!system.has(id) || excluded.has(id)));
  if (zeroIds.length === 0) log.info('nothing to filter - all user databases have been selected');
  else log.detail(`databases excluded (zeroed) from selective restore (${zeroIds.join(', ')})`);

  const zeroSet = new Set(zeroIds);
  return {
    json: {
      databases: ids.map((id) => ({
        id,
        name: names.get(id) ?? null,
        system: system.has(id),
        zeroed: zeroSet.has(id),
      })),
    },
    zeroed: (name) => {
      const file = zeroSet.size === 0 ? undefined : databaseFile(name, tablespaceDir);
      return file !== undefined && file.path !== PG_VERSION && zeroSet.has(file.id);
    },
  };
}

/**
 * The database of a file in a database directory: `pg_data/base/<oid>/<path>` or
 * `pg_tblspc/<tablespace oid>/<PG_version_catalog>/<oid>/<path>`; undefined for any other file.
 */
function databaseFile(name: string, tablespaceDir: string): { readonly id: number; readonly path: string } | undefined {
  const parts = name.split('/');
  const at =
    parts[0] === 'pg_data' && parts[1] === 'base'
      ? 2
      : parts[0] === 'pg_tblspc' && OID.test(parts[1] ?? '') && parts[2] === tablespaceDir
        ? 3
        : undefined;
  if (at === undefined || parts.length < at + 2 || !OID.test(parts[at]!)) return undefined;
  return { id: Number(parts[at]), path: parts.slice(at + 1).join('/') };
}
