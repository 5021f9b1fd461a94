import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { PgkeepError, toPgkeepError } from '../error/pgkeep-error.js';
import type { Storage } from '../storage/storage.js';
import { crc32c } from './crc32c.js';
import { lsnFormat } from './lsn.js';
import { PG_PAGE_SIZE, pgVersionByControl, type PgVersionFacts } from './version-table.js';

/** Where pg_control lives in a data directory. */
export const PG_CONTROL_PATH = 'global/pg_control';
/** The file is 8192 bytes, but PostgreSQL keeps its data in the first 512 (one sector: never torn). */
export const PG_CONTROL_DATA_SIZE = 512;

/** DBState names as pg_controldata prints them ("Database cluster state"). */
export const pgControlStateNames = [
  'starting up',
  'shut down',
  'shut down in recovery',
  'shutting down',
  'in crash recovery',
  'in archive recovery',
  'in production',
] as const;

export interface PgControl {
  readonly version: PgVersionFacts;
  readonly systemId: bigint;
  /** The system identifier in decimal, as repositories and pg_controldata write it. */
  readonly systemIdText: string;
  readonly controlVersion: number;
  readonly catalogVersion: number;
  /** DBState number, and its pg_controldata name ('unrecognized status code' when out of range). */
  readonly state: number;
  readonly stateName: string;
  /** Time of the last pg_control update, seconds since the epoch. */
  readonly time: number;
  /** LSN of the latest checkpoint record. */
  readonly checkpoint: bigint;
  /** The checkpoint LSN as '0/3000060'. */
  readonly checkpointText: string;
  /** Timeline of the latest checkpoint. */
  readonly timeline: number;
  readonly blockSize: number;
  /** Blocks per segment of a large relation (131072 for 1 GiB segments). */
  readonly relSegSize: number;
  readonly walBlockSize: number;
  readonly walSegmentSize: number;
  /** 0 without data checksums, 1 with. */
  readonly dataChecksumVersion: number;
  /** Whether data pages carry checksums. */
  readonly pageChecksum: boolean;
  readonly crc: number;
}

export const WAL_SEGMENT_SIZE_MIN = 1024 * 1024;
export const WAL_SEGMENT_SIZE_MAX = 1024 * 1024 * 1024;

/** PostgreSQL's IsValidWalSegSize: a power of two from 1 MiB to 1 GiB. */
export function isValidWalSegmentSize(size: number): boolean {
  return Number.isInteger(size) && size >= WAL_SEGMENT_SIZE_MIN && size <= WAL_SEGMENT_SIZE_MAX && (size & (size - 1)) === 0;
}

/**
 * Parses the first 512 bytes (or more) of pg_control. `source` names the file in error messages.
 * The version is identified by both control and catalog version, then the CRC-32C over the bytes
 * before the CRC must match (a mismatch is FileInvalid: the file may be being written, or damaged).
 */
export function parsePgControl(data: Uint8Array, source = PG_CONTROL_PATH): PgControl {
  if (data.length < PG_CONTROL_DATA_SIZE) {
    throw new PgkeepError(
      'FileInvalid',
      `'${source}' is ${data.length} bytes but pg_control holds at least ${PG_CONTROL_DATA_SIZE}`,
      {
        hint: 'is this a PostgreSQL data directory, and is the file complete?',
      },
    );
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u32 = (offset: number) => view.getUint32(offset, true);

  const version = pgVersionByControl(u32(8), u32(12));
  const at = version.control;

  const crcExpected = u32(at.crc);
  const crcCalculated = crc32c(data, 0, at.crc);
  if (crcCalculated !== crcExpected) {
    throw new PgkeepError(
      'FileInvalid',
      `pg_control '${source}' has an invalid checksum: calculated 0x${hex(crcCalculated)}, stored 0x${hex(crcExpected)}`,
      { hint: 'the file may be being written: retry, or the cluster is damaged' },
    );
  }

  const blockSize = u32(at.blockSize);
  if (blockSize !== PG_PAGE_SIZE) {
    throw new PgkeepError(
      'Format',
      `pg_control '${source}' has page size ${blockSize} but pgkeep supports only ${PG_PAGE_SIZE}`,
      {
        hint: 'the cluster was built with a non-default BLCKSZ: pgkeep (like pgBackRest) cannot back it up',
      },
    );
  }
  const walSegmentSize = u32(at.walSegmentSize);
  if (!isValidWalSegmentSize(walSegmentSize)) {
    throw new PgkeepError(
      'Format',
      `pg_control '${source}' has WAL segment size ${walSegmentSize} but it must be a power of two from ${WAL_SEGMENT_SIZE_MIN} to ${WAL_SEGMENT_SIZE_MAX}`,
      { hint: 'pg_control may be damaged' },
    );
  }
  const dataChecksumVersion = u32(at.dataChecksumVersion);
  if (dataChecksumVersion > 1) {
    throw new PgkeepError(
      'Format',
      `pg_control '${source}' has data checksum version ${dataChecksumVersion} but it must be 0 or 1`,
      {
        hint: 'pg_control may be damaged',
      },
    );
  }

  const systemId = view.getBigUint64(at.systemId, true);
  const checkpoint = view.getBigUint64(at.checkpoint, true);
  const state = u32(at.state);
  return {
    version,
    systemId,
    systemIdText: systemId.toString(),
    controlVersion: version.controlVersion,
    catalogVersion: u32(at.catalogVersion),
    state,
    stateName: pgControlStateNames[state] ?? 'unrecognized status code',
    time: Number(view.getBigInt64(at.time, true)),
    checkpoint,
    checkpointText: lsnFormat(checkpoint),
    timeline: u32(at.timeline),
    blockSize,
    relSegSize: u32(at.relSegSize),
    walBlockSize: u32(at.walBlockSize),
    walSegmentSize,
    dataChecksumVersion,
    pageChecksum: dataChecksumVersion !== 0,
    crc: crcExpected,
  };
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

export interface ReadPgControlOptions {
  /** Reads before giving up while the content keeps changing (default 10). */
  readonly attempts?: number;
  /** Pause between reads in ms (default 50, as pgBackRest). */
  readonly pauseMs?: number;
}

/**
 * Reads and parses `global/pg_control` of a data directory (a path, or a Storage rooted at it).
 * PostgreSQL may be rewriting the file while it is read, and not every file system makes that
 * atomic: like pgBackRest, an invalid read is retried after a short pause until it parses, and the
 * error is raised when the same invalid bytes come back twice (the file is really damaged) or the
 * attempts run out. Errors reading the file (missing, no permission) are raised at once.
 */
export async function readPgControl(pgData: string | Storage, options: ReadPgControlOptions = {}): Promise<PgControl> {
  const attempts = options.attempts ?? 10;
  const pauseMs = options.pauseMs ?? 50;
  const source = typeof pgData === 'string' ? join(pgData, PG_CONTROL_PATH) : pgData.resolve(PG_CONTROL_PATH);
  let last: Buffer | undefined;
  for (let attempt = 1; ; attempt++) {
    const data = typeof pgData === 'string' ? await readHead(source) : await readHeadFromStorage(pgData);
    try {
      return parsePgControl(data, source);
    } catch (error) {
      if (attempt >= attempts || (last !== undefined && last.equals(data))) throw error;
      last = data;
      await sleep(pauseMs);
    }
  }
}

async function readHead(path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw readError(error, path);
  }
  try {
    const buffer = Buffer.alloc(PG_CONTROL_DATA_SIZE);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } catch (error) {
    throw readError(error, path);
  } finally {
    await handle.close();
  }
}

async function readHeadFromStorage(storage: Storage): Promise<Buffer> {
  const data = await storage.readBuffer(PG_CONTROL_PATH, { limit: PG_CONTROL_DATA_SIZE });
  // readBuffer without ignoreMissing throws for a missing file; this is only a type guard.
  if (data === undefined)
    throw readError(Object.assign(new Error('no such file'), { code: 'ENOENT' }), storage.resolve(PG_CONTROL_PATH));
  return data;
}

function readError(error: unknown, path: string): PgkeepError {
  const converted = toPgkeepError(error);
  if (converted.errorName === 'FileMissing') {
    return new PgkeepError('FileMissing', `unable to open pg_control '${path}': it does not exist`, {
      hint: 'is pg1-path the data directory of the cluster?',
      cause: error,
    });
  }
  // Not covered by the tests: they run as root, which no file mode keeps out.
  if (converted.errorName === 'Access') {
    return new PgkeepError('Access', `unable to open pg_control '${path}': permission denied`, {
      hint: 'run pgkeep as the user that owns the cluster (usually postgres)',
      cause: error,
    });
  }
  return new PgkeepError('FileRead', `unable to read pg_control '${path}': ${converted.message}`, { cause: error });
}
