import type { ManifestFile } from '../../../repo/manifest/manifest.js';

/**
 * Database directories and relation files, as pgBackRest 2.45 recognises them by manifest name:
 * a database directory ("db path") is `pg_data/global`, `pg_data/base/<oid>` or
 * `pg_tblspc/<oid>/PG_<major>_<catalog>/<oid>`; a relation file in one is
 * `<relfilenode>[_fsm|_vm][.<segment>]` (the `_init` fork is deliberately not part of the pattern).
 */

const RELATION = '[0-9]+(_(fsm|vm))?(\\.[0-9]+)?';

/** A database directory whatever the tablespace directory name (the walk only enters the one of its version). */
const DB_PATH_ANY = /^(pg_data\/(global|base\/[0-9]+)|pg_tblspc\/[0-9]+\/PG_[^/]+\/[0-9]+)$/;

/** `pg_data/global/pg_control` is checked by its own CRC, not as pages. */
const PG_CONTROL = 'pg_data/global/pg_control';
/** Files of a database directory that are not made of pages. */
const NOT_PAGED: ReadonlySet<string> = new Set(['pg_filenode.map', 'PG_VERSION']);
const SEGMENT_SUFFIX = /\.([0-9]+)$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The database-directory expression of one version (`tablespaceId` = `PG_15_202209061`). */
export function dbPathPattern(tablespaceId: string): RegExp {
  return new RegExp(`^(pg_data/(global|base/[0-9]+)|pg_tblspc/[0-9]+/${escapeRegExp(tablespaceId)}/[0-9]+)$`);
}

/**
 * Page checksum validation of a backed-up file (repo-format 3.6): the segment number to validate
 * its pages with (`16385.2` is segment 2, no suffix is 0), or undefined when the file is not
 * validated. pgBackRest 2.45 validates every file of a database directory but `pg_filenode.map`,
 * `PG_VERSION` and `global/pg_control` (pg_internal.init and temporary relations never reach the
 * manifest); a stray non-relation file there is validated too, and fails, as in pgBackRest.
 * Only call it when the cluster has data checksums (option-checksum-page).
 */
export function pageChecksumSegment(manifestFileName: string): number | undefined {
  const slash = manifestFileName.lastIndexOf('/');
  if (slash < 0 || !DB_PATH_ANY.test(manifestFileName.slice(0, slash))) return undefined;
  if (NOT_PAGED.has(manifestFileName.slice(slash + 1)) || manifestFileName === PG_CONTROL) return undefined;
  const segment = SEGMENT_SUFFIX.exec(manifestFileName);
  return segment === null ? 0 : Number(segment[1]);
}

/**
 * Drops the unlogged relations: every fork and segment of `<N>` when `<N>_init` is in the same
 * directory, keeping `<N>_init` itself (restore recreates the main fork from it). `files` must be
 * sorted by name. Like pgBackRest, the answer for a relfilenode is remembered until the next
 * relation file with another relfilenode, whatever its directory: the lookup is done once per
 * relation, not once per segment.
 */
export function removeUnloggedRelations(
  files: readonly ManifestFile[],
  byName: Map<string, ManifestFile>,
  tablespaceId: string,
): void {
  const relation = new RegExp(`${dbPathPattern(tablespaceId).source.slice(0, -1)}/${RELATION}$`);
  let lastId = '';
  let lastUnlogged = false;
  for (const file of files) {
    if (!relation.test(file.name)) continue;
    const slash = file.name.lastIndexOf('/');
    const id = /^[0-9]+/.exec(file.name.slice(slash + 1))![0];
    if (id !== lastId) {
      lastUnlogged = byName.has(`${file.name.slice(0, slash + 1)}${id}_init`);
      lastId = id;
    }
    if (lastUnlogged) byName.delete(file.name);
  }
}
