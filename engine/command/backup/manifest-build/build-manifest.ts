import { PgkeepError } from '../../../error/pgkeep-error.js';
import { log } from '../../../log/logger.js';
import { tablespaceDirectoryName, type PgVersionFacts } from '../../../postgres/version-table.js';
import { compareBytes } from '../../../repo/info/json-value.js';
import type {
  Manifest,
  ManifestFile,
  ManifestLink,
  ManifestPath,
  ManifestTarget,
  Owner,
} from '../../../repo/manifest/manifest.js';
import { PosixStorage } from '../../../storage/posix/posix-storage.js';
import type { Storage, StorageInfo } from '../../../storage/storage.js';
import {
  PGSQL_TMP_PREFIX,
  relationCacheFile,
  rootContentExcluded,
  rootFileExcluded,
  tempRelationFile,
} from './exclusion-rules.js';
import { LinkCheck } from './link-check.js';
import { pathAbsolute, pathBase, pathDirectory } from './link-path.js';
import { dbPathPattern, removeUnloggedRelations } from './relation-files.js';

export interface BuildManifestOptions {
  /** The data directory, as configured (pg1-path): the pg_data target's path. */
  readonly pgPath: string;
  readonly pgVersion: PgVersionFacts;
  /** Catalog version from pg_control: names the tablespace directories (`PG_15_202209061`). */
  readonly catalogVersion: number;
  /** Online backups leave out the WAL directory's contents. */
  readonly online: boolean;
  /**
   * Tablespaces of the database (oid and name), when online. A tablespace link without an entry is
   * then an error; without a list (offline) tablespaces are named `ts<oid>`.
   */
  readonly tablespaces?: readonly { readonly oid: number; readonly name: string }[] | undefined;
  /** `--exclude` values, relative to PGDATA: `dir/` leaves out a directory's contents, `name` one entry. */
  readonly exclude?: readonly string[] | undefined;
  /** Where the data directory is read (default: the local file system at pgPath). */
  readonly storage?: Storage | undefined;
}

/** The parts of a manifest that come from the data directory, each Map in save (byte) order. */
export type BuiltManifest = Pick<Manifest, 'targets' | 'paths' | 'files' | 'links'>;

const PG_DATA = 'pg_data';
const PG_TBLSPC = 'pg_tblspc';
const PG_DATA_TBLSPC = `${PG_DATA}/${PG_TBLSPC}`;
const ARCHIVE_STATUS = 'archive_status';

/**
 * Walks the data directory and its tablespaces and lists what a backup copies, exactly as
 * pgBackRest 2.45's manifestNewBuild does (repo-format 3.4, 3.7, 6): the same entries, names,
 * owners, modes, sizes and timestamps, the same exclusions and the same errors for links that
 * cannot be restored. Checksums and repository sizes are left for the copy to fill in.
 *
 * One directory is listed at a time, depth first, so memory beyond the result is one directory's
 * listing per level. A file that disappears while the walk runs (a live cluster) is simply not
 * listed; a directory that disappears is recorded empty, as in pgBackRest.
 */
export async function buildManifest(options: BuildManifestOptions): Promise<BuiltManifest> {
  const builder = new ManifestBuilder(options);
  return builder.build();
}

class ManifestBuilder {
  private readonly storage: Storage;
  private readonly pgPath: string;
  private readonly tablespaceId: string;
  private readonly dbPath: RegExp;
  private readonly walName: string;
  private readonly excludeContent = new Set<string>();
  private readonly excludeSingle = new Set<string>();
  private readonly linkCheck: LinkCheck;

  private readonly targets = new Map<string, ManifestTarget>();
  private readonly paths = new Map<string, ManifestPath>();
  private readonly links = new Map<string, ManifestLink>();
  /** In walk order; sorted once at the end. */
  private readonly files: ManifestFile[] = [];

  constructor(private readonly options: BuildManifestOptions) {
    // A configured path never ends in a slash (pgBackRest strips it); a stray one would break prefix checks
    this.pgPath = options.pgPath.replace(/(.)\/+$/, '$1');
    this.storage = options.storage ?? new PosixStorage({ basePath: this.pgPath });
    this.tablespaceId = tablespaceDirectoryName(options.pgVersion, options.catalogVersion);
    this.dbPath = dbPathPattern(this.tablespaceId);
    this.walName = `${PG_DATA}/${options.pgVersion.walDirectory}`;
    this.linkCheck = new LinkCheck(this.pgPath);
    for (const exclude of options.exclude ?? []) {
      if (exclude.endsWith('/')) this.excludeContent.add(`${PG_DATA}/${exclude.slice(0, -1)}`);
      else this.excludeSingle.add(`${PG_DATA}/${exclude}`);
    }
  }

  async build(): Promise<BuiltManifest> {
    const root = (await this.storage.info('', { followLink: true }))!;
    this.paths.set(PG_DATA, { name: PG_DATA, user: owner(root.user), group: owner(root.group), mode: root.mode & 0o777 });
    this.targets.set(PG_DATA, { name: PG_DATA, type: 'path', path: this.pgPath });

    // The data directory itself must exist: a missing one is an error, not an empty backup
    for (const info of await this.storage.list('')) await this.entry(PG_DATA, '', false, info.name, info);

    this.files.sort((a, b) => compareBytes(a.name, b.name));
    const files = new Map<string, ManifestFile>();
    for (const file of this.files) files.set(file.name, file);
    removeUnloggedRelations(this.files, files, this.tablespaceId);
    this.files.length = 0;

    return { targets: sorted(this.targets), paths: sorted(this.paths), files, links: sorted(this.links) };
  }

  /**
   * One entry of a directory: `parent` is the directory's manifest name, `dir` its storage path
   * (relative to PGDATA, through links), `dbPath` whether it is a database directory.
   */
  private async entry(parent: string, dir: string, dbPath: boolean, name: string, info: StorageInfo): Promise<void> {
    // Temporary files and directories: removed at restart
    if (name.startsWith(PGSQL_TMP_PREFIX)) return;

    const manifestName = `${parent}/${name}`;
    if (this.excludeSingle.has(manifestName)) {
      log.info(`exclude '${this.absolute(dir, name)}' from backup using '${manifestName.slice(PG_DATA.length + 1)}' exclusion`);
      return;
    }

    switch (info.type) {
      case 'path':
        return this.path(parent, dir, manifestName, name, info);
      case 'file':
        return this.file(parent, dbPath, manifestName, name, info);
      case 'link':
        return this.link(parent, dir, dbPath, manifestName, name, info);
      case 'special':
        log.warn(`exclude special file '${this.absolute(dir, name)}' from backup`);
        return;
    }
  }

  private async path(parent: string, dir: string, manifestName: string, name: string, info: StorageInfo): Promise<void> {
    if (parent === PG_DATA_TBLSPC) throw notLink(manifestName);
    this.paths.set(manifestName, {
      name: manifestName,
      user: owner(info.user),
      group: owner(info.group),
      mode: info.mode & 0o777,
    });

    if (this.excludeContent.has(manifestName)) {
      log.info(
        `exclude contents of '${this.absolute(dir, name)}' from backup using '${manifestName.slice(PG_DATA.length + 1)}/' exclusion`,
      );
      return;
    }
    if (parent === PG_DATA && rootContentExcluded(name)) return;
    // WAL comes from the archive when online; the status files would only confuse a restored server
    if (this.options.online && parent === this.walName && name === ARCHIVE_STATUS) return;

    const sub = join(dir, name);
    const dbPath = this.dbPath.test(manifestName);
    // A directory removed since its parent was listed is recorded empty
    for (const child of await this.storage.list(sub, { ignoreMissing: true })) {
      await this.entry(manifestName, sub, dbPath, child.name, child);
    }
  }

  private file(parent: string, dbPath: boolean, manifestName: string, name: string, info: StorageInfo): void {
    if (parent === PG_DATA_TBLSPC) throw notLink(manifestName);
    if (dbPath && relationCacheFile(name)) return;
    if (parent === PG_DATA && rootFileExcluded(name, this.options.pgVersion.versionNum)) return;
    if (this.options.online && parent === this.walName) return;
    if (dbPath && tempRelationFile(name)) return;

    this.files.push({
      name: manifestName,
      size: info.size,
      sizeRepo: info.size,
      timestamp: info.mtime,
      checksum: undefined,
      checksumRepo: undefined,
      reference: undefined,
      user: owner(info.user),
      group: owner(info.group),
      mode: info.mode & 0o777,
    });
  }

  private async link(
    parent: string,
    dir: string,
    dbPath: boolean,
    manifestName: string,
    name: string,
    info: StorageInfo,
  ): Promise<void> {
    const destination = info.linkDestination!;
    // Restore recreates one level of links: a chain of links cannot be represented
    const destinationAbsolute = pathAbsolute(destination, this.storage.resolve(dir));
    const destinationInfo = await this.storage.info(destinationAbsolute, { ignoreMissing: true });
    if (destinationInfo?.type === 'link') {
      throw new PgkeepError(
        'LinkDestination',
        `link '${this.absolute(dir, name)}' cannot reference another link '${destinationAbsolute}'`,
        { hint: 'point the link at the final destination instead of another link' },
      );
    }

    const link: ManifestLink = { name: manifestName, destination, user: owner(info.user), group: owner(info.group) };
    const target: ManifestTarget = { name: manifestName, type: 'link', path: '' };
    let entryParent = parent;
    let entryDir = dir;
    let linkedName = name;

    if (parent === PG_DATA_TBLSPC) {
      // A tablespace: its files are named pg_tblspc/<oid>/PG_<major>_<catalog>/..., and only that
      // directory of the location is backed up (other versions may share the location)
      const oid = tablespaceOid(name);
      target.name = manifestName.slice(PG_DATA.length + 1);
      target.tablespaceId = oid;
      target.tablespaceName = this.tablespaceName(oid, name);
      this.addTablespacePaths(target.name);
      entryParent = target.name;
      entryDir = join(dir, name);
      linkedName = this.tablespaceId;
    }

    const linkedPath = join(entryDir, linkedName);
    const linked = await this.storage.info(linkedPath, { followLink: true, ignoreMissing: true });
    if (linked === undefined && target.tablespaceId !== undefined) await this.assertTablespaceDirectory(dir, name, linkedPath);
    if (linked === undefined || linked.type === 'path') {
      target.path = destination;
    } else {
      if (target.tablespaceId !== undefined) {
        throw new PgkeepError('Format', `tablespace links to a file: '${this.storage.resolve(linkedPath)}' is not a directory`, {
          hint: `the tablespace location must hold the directory ${this.tablespaceId} of this PostgreSQL version`,
        });
      }
      target.path = pathDirectory(destination);
      target.file = pathBase(destination);
    }

    this.targets.set(target.name, target);
    this.links.set(link.name, link);
    // Overlap and PGDATA errors come before a missing destination
    this.linkCheck.check(target);
    if (linked === undefined) {
      throw new PgkeepError(
        'FileOpen',
        `unable to get info for missing path/file '${this.storage.resolve(linkedPath)}': [2] No such file or directory`,
        {
          hint: 'the link destination does not exist: create it or remove the link',
        },
      );
    }

    await this.entry(entryParent, entryDir, dbPath, linkedName, linked);
  }

  /**
   * A tablespace link to a file cannot hold the version directory: that is an error of its own,
   * raised before the link checks (pgBackRest fails on ENOTDIR there), not a missing directory.
   */
  private async assertTablespaceDirectory(dir: string, name: string, linkedPath: string): Promise<void> {
    const location = await this.storage.info(join(dir, name), { followLink: true, ignoreMissing: true });
    if (location !== undefined && location.type !== 'path') {
      throw new PgkeepError(
        'FileOpen',
        `unable to get info for path/file '${this.storage.resolve(linkedPath)}': [20] Not a directory`,
        {
          hint: 'a tablespace link must point to a directory',
        },
      );
    }
  }

  /** The dummy `pg_tblspc` path (owner and mode of PGDATA) and `pg_tblspc/<oid>` (those of pg_data/pg_tblspc). */
  private addTablespacePaths(targetName: string): void {
    if (!this.paths.has(PG_TBLSPC)) this.paths.set(PG_TBLSPC, { ...this.paths.get(PG_DATA)!, name: PG_TBLSPC });
    this.paths.set(targetName, { ...this.paths.get(PG_DATA_TBLSPC)!, name: targetName });
  }

  private tablespaceName(oid: number, name: string): string {
    if (this.options.tablespaces === undefined) return `ts${name}`;
    const found = this.options.tablespaces.find((tablespace) => tablespace.oid === oid);
    if (found === undefined) {
      // pgBackRest's code for this (AssertError), so scripts see the same exit code
      throw new PgkeepError('Assert', `tablespace with oid ${oid} not found in tablespace map`, {
        hint: 'was a tablespace created or dropped during the backup?',
      });
    }
    return found.name;
  }

  private absolute(dir: string, name: string): string {
    return this.storage.resolve(join(dir, name));
  }
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function owner(name: string | null): Owner {
  return name ?? false;
}

function notLink(manifestName: string): PgkeepError {
  return new PgkeepError('LinkExpected', `'${manifestName}' is not a symlink - pg_tblspc should contain only symlinks`, {
    hint: 'pg_tblspc holds links to tablespace locations only: move anything else out of it',
  });
}

function tablespaceOid(name: string): number {
  // pgBackRest converts the name as an unsigned 32-bit integer and fails otherwise
  const oid = /^[0-9]+$/.test(name) ? Number(name) : NaN;
  if (!(oid <= 0xffffffff)) {
    throw new PgkeepError('Format', `unable to convert base 10 string '${name}' to unsigned int`, {
      hint: 'pg_tblspc holds links named by tablespace oid only: move anything else out of it',
    });
  }
  return oid;
}

function sorted<T>(map: Map<string, T>): Map<string, T> {
  return new Map([...map].sort(([a], [b]) => compareBytes(a, b)));
}

/** The backup command decides page checksum validation per file with this (re-exported for one import). */
export { pageChecksumSegment } from './relation-files.js';
