import { PgkeepError } from '../error/pgkeep-error.js';

/**
 * Per-version facts about PostgreSQL 12 to 18: how to recognise a version from pg_control and from
 * a WAL header, where pg_control keeps the fields pgkeep reads, and what the backup functions and
 * directories are called. Values are the release values from PostgreSQL's headers (the same ones
 * pgBackRest vendors); the pg_control offsets are those of the x86-64/ARM64 structs (repo-format.md
 * section 13).
 */

/** Byte offsets of the pg_control fields pgkeep reads. All fields are native little-endian. */
export interface PgControlLayout {
  /** u64 */
  readonly systemId: number;
  /** u32 */
  readonly controlVersion: number;
  /** u32 */
  readonly catalogVersion: number;
  /** u32 enum DBState */
  readonly state: number;
  /** i64, seconds since the epoch: time of the last pg_control update */
  readonly time: number;
  /** u64 LSN of the last checkpoint record */
  readonly checkpoint: number;
  /** u32 checkPointCopy.ThisTimeLineID */
  readonly timeline: number;
  /** u32 */
  readonly blockSize: number;
  /** u32 blocks per segment of a large relation */
  readonly relSegSize: number;
  /** u32 */
  readonly walBlockSize: number;
  /** u32 */
  readonly walSegmentSize: number;
  /** u32 */
  readonly dataChecksumVersion: number;
  /** u32 CRC-32C of every byte before it */
  readonly crc: number;
}

export interface PgVersionFacts {
  /** The major version as pgBackRest writes it in repositories (`db-version`): "12" .. "18". */
  readonly version: string;
  /** server_version_num of the major release: 150000. */
  readonly versionNum: number;
  readonly controlVersion: number;
  /** The release catalog number (catversion.h). */
  readonly catalogVersion: number;
  /**
   * A version still in development has no final catalog number: pg_control then matches any
   * catalog from `catalogVersion` to the end of that year (pgBackRest's CATALOG_VERSION_NO_MAX
   * rule). Every version in this table is released, so each matches its exact catalog number only:
   * a cluster of a beta with an older catalog is refused rather than guessed at.
   */
  readonly unreleased: boolean;
  /** xlp_magic of every WAL page of this version. */
  readonly walMagic: number;
  readonly walDirectory: 'pg_wal';
  readonly control: PgControlLayout;
  /** Non-exclusive backup start/stop: pg_backup_start/pg_backup_stop from 15, before that pg_start_backup/pg_stop_backup. */
  readonly backupStartFunction: 'pg_backup_start' | 'pg_start_backup';
  readonly backupStopFunction: 'pg_backup_stop' | 'pg_stop_backup';
  /** 12-14 take an `exclusive` argument that must be false; 15 removed exclusive backups. */
  readonly backupExclusiveArgument: boolean;
}

/** pg_control layout shared by 12 to 17 (checked by compiling PostgreSQL's structs; section 13). */
const layout12: PgControlLayout = {
  systemId: 0,
  controlVersion: 8,
  catalogVersion: 12,
  state: 16,
  time: 24,
  checkpoint: 32,
  timeline: 48,
  blockSize: 216,
  relSegSize: 220,
  walBlockSize: 224,
  walSegmentSize: 228,
  dataChecksumVersion: 252,
  crc: 288,
};

/** 18 added `default_char_signedness` before the nonce, which moves the CRC by 4 bytes. */
const layout18: PgControlLayout = { ...layout12, crc: 292 };

function facts(
  version: number,
  controlVersion: number,
  catalogVersion: number,
  walMagic: number,
  control: PgControlLayout,
): PgVersionFacts {
  const modern = version >= 15;
  return {
    version: String(version),
    versionNum: version * 10000,
    controlVersion,
    catalogVersion,
    unreleased: false,
    walMagic,
    walDirectory: 'pg_wal',
    control,
    backupStartFunction: modern ? 'pg_backup_start' : 'pg_start_backup',
    backupStopFunction: modern ? 'pg_backup_stop' : 'pg_stop_backup',
    backupExclusiveArgument: !modern,
  };
}

/** Oldest first. Note 13, 14, 15 and 16 share control version 1300: the catalog number tells them apart. */
export const pgVersions: readonly PgVersionFacts[] = [
  facts(12, 1201, 201909212, 0xd101, layout12),
  facts(13, 1300, 202007201, 0xd106, layout12),
  facts(14, 1300, 202107181, 0xd10d, layout12),
  facts(15, 1300, 202209061, 0xd110, layout12),
  facts(16, 1300, 202307071, 0xd113, layout12),
  facts(17, 1700, 202406281, 0xd116, layout12),
  facts(18, 1800, 202506291, 0xd118, layout18),
];

export const PG_PAGE_SIZE = 8192;
/** Blocks in a 1 GiB relation segment file (RELSEG_SIZE of a default build). */
export const PG_SEGMENT_PAGE_TOTAL = 131072;
export const PG_WAL_SEGMENT_SIZE_DEFAULT = 16 * 1024 * 1024;

function supportedText(): string {
  return `pgkeep supports PostgreSQL ${pgVersions.map((entry) => entry.version).join(', ')}`;
}

function notSupported(message: string): PgkeepError {
  return new PgkeepError('VersionNotSupported', message, {
    hint: `${supportedText()}: is this a supported PostgreSQL version, and is pgkeep up to date on every host?`,
  });
}

/** Facts for a major version string as repositories store it ("15"). */
export function pgVersionByString(version: string): PgVersionFacts {
  const found = pgVersions.find((entry) => entry.version === version);
  if (found === undefined) throw notSupported(`PostgreSQL version '${version}' is not supported`);
  return found;
}

/** Facts for a server_version_num (150018 -> 15). */
export function pgVersionByNum(versionNum: number): PgVersionFacts {
  const found = pgVersions.find((entry) => Math.floor(versionNum / 10000) === entry.versionNum / 10000);
  if (found === undefined || !Number.isInteger(versionNum)) {
    throw notSupported(`PostgreSQL server_version_num ${versionNum} is not a supported version`);
  }
  return found;
}

/** Whether pg_control's control and catalog versions belong to this version. */
export function pgControlMatches(entry: PgVersionFacts, controlVersion: number, catalogVersion: number): boolean {
  if (entry.controlVersion !== controlVersion) return false;
  if (!entry.unreleased) return entry.catalogVersion === catalogVersion;
  // During development: from the first catalog number to the end of its year (YYYYMMDDN).
  return catalogVersion >= entry.catalogVersion && catalogVersion < (Math.floor(entry.catalogVersion / 100000) + 1) * 100000;
}

/** Facts identified by pg_control's control version AND catalog version. */
export function pgVersionByControl(
  controlVersion: number,
  catalogVersion: number,
  table: readonly PgVersionFacts[] = pgVersions,
): PgVersionFacts {
  const found = table.find((entry) => pgControlMatches(entry, controlVersion, catalogVersion));
  if (found === undefined) {
    throw notSupported(`unexpected pg_control version ${controlVersion} and catalog version ${catalogVersion}`);
  }
  return found;
}

/** Facts identified by a WAL page's xlp_magic. */
export function pgVersionByWalMagic(magic: number): PgVersionFacts {
  const found = pgVersions.find((entry) => entry.walMagic === magic);
  if (found === undefined) throw notSupported(`unexpected WAL magic 0x${magic.toString(16).toUpperCase().padStart(4, '0')}`);
  return found;
}

/**
 * The directory a tablespace holds for this cluster, `PG_<major>_<catalog>` (pg_tblspc/<oid>/PG_15_202209061).
 * Pass the catalog number from pg_control when known; it equals the table's for released versions.
 */
export function tablespaceDirectoryName(entry: PgVersionFacts, catalogVersion: number = entry.catalogVersion): string {
  return `PG_${entry.version}_${catalogVersion}`;
}
