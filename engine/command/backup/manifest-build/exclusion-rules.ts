/**
 * What pgBackRest 2.45 leaves out of a backup by name (repo-format 6; src/info/manifest.c,
 * manifestBuildInfo). Every rule here is a fact of that version, so a pgkeep backup lists exactly
 * the files a pgbackrest backup of the same data directory lists. PostgreSQL 12 is the oldest
 * version pgkeep supports, so the rules of older versions (recovery.conf, pg_xlog) are absent.
 */

/** Any file, directory or link whose name starts with this is skipped, wherever it is: temporary files. */
export const PGSQL_TMP_PREFIX = 'pgsql_tmp';

/**
 * Directories of the PGDATA root that are recorded but whose contents are never backed up: they
 * are reset or useless after recovery. pg_stat_tmp is excluded even on 15+, where extensions still use it.
 */
const ROOT_CONTENT_EXCLUDED: ReadonlySet<string> = new Set([
  'pg_dynshmem',
  'pg_notify',
  'pg_replslot',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
]);

/** Files of the PGDATA root never backed up, on every supported version (12+). */
const ROOT_FILES_EXCLUDED: ReadonlySet<string> = new Set([
  // recovery settings of the server the backup is taken from
  'recovery.signal',
  'standby.signal',
  // temporary file of ALTER SYSTEM
  'postgresql.auto.conf.tmp',
  // pgBackRest stores the backup_label returned by pg_backup_stop() instead
  'backup_label',
  'backup_label.old',
  // state of the running server
  'postmaster.opts',
  'postmaster.pid',
]);

/** pg_basebackup's manifest files, excluded from 13 (the version that writes them). */
const ROOT_FILES_EXCLUDED_13: ReadonlySet<string> = new Set(['backup_manifest', 'backup_manifest.tmp']);
const PG_13 = 130000;

/** Relation cache files, rebuilt at startup; `pg_internal.init.<pid>` is a leftover temporary one. */
const PG_INTERNAL_INIT = 'pg_internal.init';

/** Temporary relations (`t<backend>_<relfilenode>` and their forks and segments): dropped at restart. */
const TEMP_RELATION = /^t[0-9]+_[0-9]+(_(fsm|vm))?(\.[0-9]+)?$/;

/** Whether the contents of a directory directly in PGDATA are skipped (the directory itself is kept). */
export function rootContentExcluded(name: string): boolean {
  return ROOT_CONTENT_EXCLUDED.has(name);
}

/** Whether a file directly in PGDATA is skipped. `versionNum` is server_version_num of the major (150000). */
export function rootFileExcluded(name: string, versionNum: number): boolean {
  return ROOT_FILES_EXCLUDED.has(name) || (versionNum >= PG_13 && ROOT_FILES_EXCLUDED_13.has(name));
}

/**
 * Whether a file in a database directory is a relation cache file. pgBackRest looks for `.<digit>`
 * anywhere after the prefix (an unanchored match), so `pg_internal.initX.1` is skipped too: kept
 * that way so both tools skip the same files.
 */
export function relationCacheFile(name: string): boolean {
  if (!name.startsWith(PG_INTERNAL_INIT)) return false;
  const rest = name.slice(PG_INTERNAL_INIT.length);
  return rest === '' || /\.[0-9]/.test(rest);
}

/** Whether a file in a database directory belongs to a temporary relation. */
export function tempRelationFile(name: string): boolean {
  return TEMP_RELATION.test(name);
}
