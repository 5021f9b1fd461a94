/**
 * The restore plan as data: what `pgkeep restore --dry-run --output=json` prints, what the desktop
 * app's restore planner shows as its preview, and what the restore executes. It is computed before
 * anything is written (plan.ts) and executed as it is (execute.ts).
 *
 * Stability: this is a public format. `format` is 1; fields may be added in later versions but none
 * is removed or changes meaning without a new format number. Sizes are bytes, times are epoch
 * seconds unless a field says otherwise, LSNs are PostgreSQL's text form (`0/3000028`), paths are
 * absolute, and manifest names are as in the backup (`pg_data/base/5/16384`, `pg_tblspc/16384/...`).
 * Everything is plain JSON (no bigint: the system identifier is a decimal string).
 */

import type { ErrorName } from '../../error/error-table.js';

export const RESTORE_PLAN_FORMAT = 1;

/** pgBackRest's recovery types (`--type`). */
export type RecoveryType = 'default' | 'immediate' | 'time' | 'xid' | 'lsn' | 'name' | 'standby' | 'preserve' | 'none';
export type TargetAction = 'pause' | 'promote' | 'shutdown';

export interface RestorePlanJson {
  readonly format: typeof RESTORE_PLAN_FORMAT;
  /** When the plan was computed (ISO 8601). */
  readonly createdAt: string;
  readonly stanza: string;
  /** True when `problems` is empty: the restore may run. */
  readonly ok: boolean;
  /** The options the plan was computed with. */
  readonly request: RestorePlanRequestJson;
  /** The backup set that will be restored; null when none could be chosen (a problem says why). */
  readonly backup: RestorePlanBackup | null;
  /** The databases of a selective restore (`--db-include`, `--db-exclude`); null without either. */
  readonly selective: RestorePlanSelective | null;
  /** The data directory, tablespaces and links, with the paths after the maps. */
  readonly targets: readonly RestorePlanTarget[];
  /** Every directory of the backup. */
  readonly paths: readonly RestorePlanPath[];
  /** Every symbolic link the restore makes (tablespace links, and links restored as links). */
  readonly links: readonly RestorePlanLink[];
  /** Every file of the backup with what the restore does with it. */
  readonly files: readonly RestorePlanFile[];
  /** What `--delta` removes from the targets because the backup does not have it. */
  readonly removals: readonly RestorePlanRemoval[];
  readonly summary: RestorePlanSummary;
  /** Space needed and free, per file system. */
  readonly space: readonly RestorePlanSpace[];
  /** The WAL recovery needs and whether the archive holds it; null for offline backups and without a backup. */
  readonly wal: RestorePlanWal | null;
  /** The recovery settings the restore writes. */
  readonly recovery: RestorePlanRecovery;
  /** Everything that stops the restore. Each would be raised as the named error. */
  readonly problems: readonly RestorePlanProblem[];
  /** Things that do not stop the restore but that the user should know. */
  readonly warnings: readonly string[];
  /** What the plan could not check, and why. */
  readonly notes: readonly string[];
  /**
   * Name of the directory created in each target to stage fetched files before they are moved into
   * place (unique per plan). A restore that fails before that leaves the targets as they were.
   */
  readonly stagingName: string;
}

export interface RestorePlanRequestJson {
  /** Repositories searched for the backup, in order. */
  readonly repos: readonly number[];
  readonly pgPath: string;
  /** `--set`, or null for the latest backup (or the one the target needs). */
  readonly set: string | null;
  readonly type: RecoveryType;
  readonly target: string | null;
  readonly targetAction: TargetAction | null;
  readonly targetTimeline: string | null;
  readonly targetExclusive: boolean;
  readonly tablespaceMap: Readonly<Record<string, string>>;
  readonly tablespaceMapAll: string | null;
  readonly linkMap: Readonly<Record<string, string>>;
  readonly linkAll: boolean;
  readonly delta: boolean;
  readonly force: boolean;
  readonly recoveryOptions: Readonly<Record<string, string>>;
  readonly archiveMode: 'off' | 'preserve';
  readonly processMax: number;
  /** `--db-include` and `--db-exclude`, as given (names or oids). */
  readonly dbInclude: readonly string[];
  readonly dbExclude: readonly string[];
}

export interface RestorePlanSelective {
  /** Every database of the backup, by oid. */
  readonly databases: readonly {
    readonly id: number;
    /** From the manifest's [db] section; null for a database only its files show. */
    readonly name: string | null;
    /** Made by initdb (oid below 16384, or postgres/template0/template1): restored unless excluded by name. */
    readonly system: boolean;
    /** Its files are restored as sparse files of zeros: drop the database once the cluster runs. */
    readonly zeroed: boolean;
  }[];
}

export interface RestorePlanBackup {
  readonly repo: number;
  readonly label: string;
  readonly type: 'full' | 'diff' | 'incr';
  /** How the set was chosen: `--set`, the latest, or the newest that ends before the target. */
  readonly selectedBy: 'set' | 'latest' | 'target';
  readonly timestampStart: number;
  readonly timestampStop: number;
  readonly lsnStart: string | null;
  readonly lsnStop: string | null;
  readonly archiveStart: string | null;
  readonly archiveStop: string | null;
  readonly online: boolean;
  /** Labels whose directories hold the files, this backup's last. */
  readonly references: readonly string[];
  readonly pgVersion: string;
  readonly systemId: string;
  readonly compressType: string;
  /** Backup directory in the repository (`<repo path>/backup/<stanza>/<label>`). */
  readonly path: string;
}

export interface RestorePlanTarget {
  /** `pg_data`, `pg_tblspc/<oid>`, or `pg_data/<link>`. */
  readonly name: string;
  readonly kind: 'data' | 'tablespace' | 'path-link' | 'file-link';
  /** Where it was when backed up (a link's destination as recorded). */
  readonly originalPath: string;
  /** Where it is restored: for a file link, the directory that holds the file. */
  readonly path: string;
  /** File links: the file's name in `path`. */
  readonly file: string | null;
  readonly tablespaceId: number | null;
  readonly tablespaceName: string | null;
  /** What decided `path`. */
  readonly mappedBy: 'pg1-path' | 'tablespace-map' | 'tablespace-map-all' | 'link-map' | 'backup';
  /**
   * The directory the restore writes and cleans: the data directory, a tablespace's
   * `PG_<version>_<catalog>` directory, a link's destination directory.
   */
  readonly restorePath: string;
  /** Whether `restorePath` exists now, and whether it holds anything (ignoring a restore marker). */
  readonly exists: boolean;
  readonly empty: boolean;
  /** Identifies the file system (device number) for `space`. */
  readonly filesystem: string;
  /** Absolute directory where this target's fetched files are staged (`<root>/<stagingName>`). */
  readonly stagingPath: string;
}

export interface RestorePlanPath {
  readonly name: string;
  readonly path: string;
  readonly action: 'create' | 'keep';
  readonly mode: number;
  /** Owner to set (root only); null leaves the owner as the restore process creates it. */
  readonly user: string | null;
  readonly group: string | null;
}

export interface RestorePlanLink {
  /** The link's manifest name (`pg_data/pg_tblspc/16384`). */
  readonly name: string;
  /** Where the link is made. */
  readonly path: string;
  readonly destination: string;
  /** keep: the link exists with this destination already. */
  readonly action: 'create' | 'keep';
  readonly user: string | null;
  readonly group: string | null;
}

export type RestoreFileAction = 'create' | 'keep' | 'replace';

export interface RestorePlanFile {
  readonly name: string;
  /** Destination path. */
  readonly path: string;
  /**
   * create: not there, fetched (or made empty); replace: there but different, fetched; keep: there
   * with the backup's content (delta), only its time, mode and owner are set.
   */
  readonly action: RestoreFileAction;
  /** Why: `missing`, `checksum matches`, `checksum differs`, `smaller than backup`, `size and time match`, ... */
  readonly reason: string;
  readonly size: number;
  /** SHA-1 of the content (of empty content for size 0). */
  readonly checksum: string;
  readonly timestamp: number;
  readonly mode: number;
  readonly user: string | null;
  readonly group: string | null;
  /** Where the content comes from; null when nothing is read (keep, empty and zeroed files). */
  readonly repo: RestorePlanRepoFile | null;
  /** keep: the existing file is longer than the backup's and is cut to `size`. */
  readonly truncateFrom: number | null;
  /**
   * Its database is excluded from a selective restore: created (or replaced) as a sparse file of
   * `size` zeros, nothing fetched.
   */
  readonly zeroed: boolean;
  /** The target queue the file's job runs in (`pg_data` or `pg_tblspc/<oid>`). */
  readonly queue: string;
  /** The target that holds the file (its staging directory and file system). */
  readonly target: string;
}

export interface RestorePlanRepoFile {
  /** Absolute path of the repository file (a bundle for bundled files). */
  readonly path: string;
  /** Byte offset and length in a bundle; null for a whole file. */
  readonly offset: number | null;
  readonly limit: number | null;
  /** Bytes read from the repository. */
  readonly size: number;
  readonly compressType: string;
  /** The backup that physically holds the file. */
  readonly label: string;
}

export interface RestorePlanRemoval {
  readonly path: string;
  readonly type: 'file' | 'link' | 'path' | 'special';
  readonly reason: string;
}

export interface RestorePlanSummary {
  readonly files: {
    readonly total: number;
    readonly create: number;
    readonly replace: number;
    readonly keep: number;
    /** Of those created or replaced, the zeroed files of excluded databases. */
    readonly zeroed: number;
  };
  /** Files fetched from the repository (create and replace with content). */
  readonly fetchFiles: number;
  readonly removals: number;
  readonly pathsCreate: number;
  readonly linksCreate: number;
  readonly bytes: {
    /** Size of the restored cluster. */
    readonly total: number;
    /** Plain bytes fetched and written. */
    readonly fetch: number;
    /** Bytes read from the repository for them (compressed). */
    readonly fetchRepo: number;
    /** Bytes of files kept as they are. */
    readonly keep: number;
  };
}

export interface RestorePlanSpace {
  readonly filesystem: string;
  /** Target paths on this file system. */
  readonly paths: readonly string[];
  /** Bytes the restore writes there (fetched files are staged before the files they replace go). */
  readonly needed: number;
  /** Bytes available to the restoring user (statfs bavail), null when unknown. */
  readonly free: number | null;
  readonly enough: boolean;
}

export interface RestorePlanWal {
  readonly segmentSize: number;
  /** Timeline of the backup. */
  readonly backupTimeline: number;
  /** Timeline recovery follows (from --target-timeline; latest by default). */
  readonly targetTimeline: number;
  /** Timelines from the backup's to the target's, oldest first. */
  readonly timelines: readonly number[];
  readonly archiveIds: readonly string[];
  /** The segments the backup itself needs to become consistent (backup start to stop). */
  readonly consistency: { readonly first: string; readonly last: string };
  /** Segments recovery reads: to the target's segment, or to the end of the archive (last null: not knowable). */
  readonly needed: { readonly first: string; readonly last: string | null; readonly count: number | null };
  /** The last segment of continuous WAL from the backup's start on the timeline path. */
  readonly endOfArchive: RestorePlanWalEnd | null;
  /** Needed segments the archive does not have (at most 20 listed). */
  readonly missing: readonly string[];
  /** Whether the archive holds every segment recovery needs. */
  readonly complete: boolean;
  readonly target: RestorePlanTargetCheck;
}

export interface RestorePlanWalEnd {
  readonly segment: string;
  /** End of the last valid WAL record in it (its end when it could not be read). */
  readonly lsn: string;
  /**
   * When the last transaction found at the end of the archive committed or aborted (epoch seconds
   * with fraction): a time target must be before it. Null when none was found.
   */
  readonly lastCommitTime: number | null;
  /** A later segment exists past a gap: recovery stops at `segment` although more WAL is archived. */
  readonly gapBefore: string | null;
}

export interface RestorePlanTargetCheck {
  readonly type: RecoveryType;
  readonly value: string | null;
  /** reachable: the plan found what recovery needs; unreachable: a problem says why; unchecked: see detail. */
  readonly status: 'reachable' | 'unreachable' | 'unchecked';
  readonly detail: string;
  /** The range recovery can reach from the backups and the archive, in the target's terms. */
  readonly recoverable: { readonly from: string; readonly to: string } | null;
}

export interface RestorePlanRecovery {
  readonly type: RecoveryType;
  /** The file the settings go to; null when none is written (preserve). */
  readonly file: 'postgresql.auto.conf' | null;
  /** In the order written. */
  readonly settings: readonly { readonly key: string; readonly value: string }[];
  readonly signalFile: 'recovery.signal' | 'standby.signal' | null;
  readonly restoreCommand: string | null;
}

export interface RestorePlanProblem {
  /** The error the restore raises for it (see the error table). */
  readonly error: ErrorName;
  readonly code: number;
  readonly message: string;
  readonly hint: string | null;
}
