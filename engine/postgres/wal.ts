import { open } from 'node:fs/promises';

import { PgkeepError, toPgkeepError } from '../error/pgkeep-error.js';
import { lsnFormat, lsnParse } from './lsn.js';
import { isValidWalSegmentSize, WAL_SEGMENT_SIZE_MAX, WAL_SEGMENT_SIZE_MIN } from './pg-control.js';
import { pgVersionByWalMagic, type PgVersionFacts } from './version-table.js';

export { lsnFormat, lsnParse } from './lsn.js';

/*
 * WAL: the long page header at the start of every segment, segment file names, and timeline
 * history files. Segment numbers are plain numbers (at most 2^64 / 1 MiB = 2^44 segments, well
 * inside 2^53); LSNs are bigint.
 */

// ---------------------------------------------------------------------------------------------------------------------------
// Names. pgBackRest writes its patterns as [0-F], which also admits the ASCII characters between
// '9' and 'A'; PostgreSQL only ever writes upper-case hex, so these accept exactly that.

/** A segment name: timeline, xlogid, segment within the xlogid, 8 upper-case hex digits each. */
export const WAL_SEGMENT_REGEX = /^[0-9A-F]{24}$/;
/** A segment, or a `.partial` one (the last segment of a timeline that a promotion cut short). */
export const WAL_SEGMENT_PARTIAL_REGEX = /^[0-9A-F]{24}(\.partial)?$/;
/** Anything that begins like a segment (segments, `.partial`, `.backup`). */
export const WAL_SEGMENT_PREFIX_REGEX = /^[0-9A-F]{24}/;
/** A timeline history file: `00000002.history`. */
export const WAL_HISTORY_REGEX = /^[0-9A-F]{8}\.history$/;
/** A backup history file: `<segment>.<offset of the start LSN in the segment, 8 hex>.backup`. */
export const WAL_BACKUP_REGEX = /^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$/;
/** The archive's per-xlogid directory: the first 16 characters of a segment name. */
export const WAL_SEGMENT_DIR_REGEX = /^[0-9A-F]{16}$/;

export const WAL_PARTIAL_EXT = '.partial';

export function isSegmentName(name: string): boolean {
  return WAL_SEGMENT_REGEX.test(name);
}

/** A segment or a .partial segment: the files archive-push checks the header of. */
export function isSegmentOrPartialName(name: string): boolean {
  return WAL_SEGMENT_PARTIAL_REGEX.test(name);
}

export function isPartialName(name: string): boolean {
  return WAL_SEGMENT_REGEX.test(name.slice(0, 24)) && name.slice(24) === WAL_PARTIAL_EXT;
}

export function isHistoryName(name: string): boolean {
  return WAL_HISTORY_REGEX.test(name);
}

export function isBackupHistoryName(name: string): boolean {
  return WAL_BACKUP_REGEX.test(name);
}

/** Segments in one xlogid ("log file"): 0x100000000 / segment size (256 for 16 MiB). */
export function segmentsPerXLogId(segmentSize: number): number {
  checkSegmentSize(segmentSize);
  return 0x100000000 / segmentSize;
}

function checkSegmentSize(segmentSize: number): void {
  if (!isValidWalSegmentSize(segmentSize)) {
    throw new PgkeepError(
      'Format',
      `WAL segment size ${segmentSize} is not valid: it must be a power of two from ${WAL_SEGMENT_SIZE_MIN} to ${WAL_SEGMENT_SIZE_MAX}`,
    );
  }
}

export interface SegmentName {
  readonly timeline: number;
  /** The absolute segment number (xlogid * segments per xlogid + segment within it). */
  readonly segmentNo: number;
}

function hex8(value: number): string {
  return value.toString(16).toUpperCase().padStart(8, '0');
}

/** Parses a 24-character segment name (a `.partial` suffix is allowed and ignored). */
export function parseSegmentName(name: string, segmentSize: number): SegmentName {
  const perXLogId = segmentsPerXLogId(segmentSize);
  const base = name.endsWith(WAL_PARTIAL_EXT) ? name.slice(0, -WAL_PARTIAL_EXT.length) : name;
  if (!WAL_SEGMENT_REGEX.test(base)) {
    throw new PgkeepError('Format', `'${name}' is not a WAL segment name`, {
      hint: 'a segment name is 24 upper-case hex digits',
    });
  }
  const timeline = parseInt(base.slice(0, 8), 16);
  const xlogId = parseInt(base.slice(8, 16), 16);
  const segment = parseInt(base.slice(16, 24), 16);
  if (segment >= perXLogId) {
    throw new PgkeepError('Format', `'${name}' is not a WAL segment name for ${segmentSize}-byte segments`, {
      hint: `with this segment size the last 8 digits go up to ${hex8(perXLogId - 1)}: is the WAL segment size right?`,
    });
  }
  return { timeline, segmentNo: xlogId * perXLogId + segment };
}

export function formatSegmentName(timeline: number, segmentNo: number, segmentSize: number): string {
  const perXLogId = segmentsPerXLogId(segmentSize);
  if (!Number.isSafeInteger(segmentNo) || segmentNo < 0 || segmentNo >= 0x100000000 * perXLogId) {
    throw new PgkeepError('Assert', `WAL segment number ${segmentNo} is out of range`);
  }
  return hex8(timeline) + hex8(Math.floor(segmentNo / perXLogId)) + hex8(segmentNo % perXLogId);
}

/** The timeline of a segment (or .partial / .backup) name. */
export function timelineOfSegmentName(name: string): number {
  if (!WAL_SEGMENT_PREFIX_REGEX.test(name)) throw new PgkeepError('Format', `'${name}' is not a WAL segment name`);
  return parseInt(name.slice(0, 8), 16);
}

/** The segment number holding this LSN (PostgreSQL's XLByteToSeg). */
export function lsnToSegmentNo(lsn: bigint, segmentSize: number): number {
  checkSegmentSize(segmentSize);
  return Number(lsn / BigInt(segmentSize));
}

/**
 * The segment holding this LSN, as pgBackRest computes it. An LSN exactly on a segment boundary
 * names the segment that begins there (PostgreSQL's pg_walfile_name names the previous one for
 * such an LSN, since it takes the LSN as an end position).
 */
export function lsnToSegmentName(timeline: number, lsn: bigint, segmentSize: number): string {
  return formatSegmentName(timeline, lsnToSegmentNo(lsn, segmentSize), segmentSize);
}

/** The first LSN of a segment (what its first page's xlp_pageaddr holds). */
export function segmentStartLsn(name: string, segmentSize: number): bigint {
  return BigInt(parseSegmentName(name, segmentSize).segmentNo) * BigInt(segmentSize);
}

export function nextSegmentName(name: string, segmentSize: number): string {
  const { timeline, segmentNo } = parseSegmentName(name, segmentSize);
  return formatSegmentName(timeline, segmentNo + 1, segmentSize);
}

export function previousSegmentName(name: string, segmentSize: number): string {
  const { timeline, segmentNo } = parseSegmentName(name, segmentSize);
  if (segmentNo === 0) throw new PgkeepError('Format', `WAL segment '${name}' is the first one: it has no previous segment`);
  return formatSegmentName(timeline, segmentNo - 1, segmentSize);
}

/**
 * Every segment from the one holding `start` to the one holding `stop`, both included, on one
 * timeline: the WAL a backup needs from its start to its stop LSN.
 */
export function segmentRange(timeline: number, start: bigint, stop: bigint, segmentSize: number): string[] {
  if (start > stop) throw new PgkeepError('Assert', `WAL range start ${lsnFormat(start)} is after its stop ${lsnFormat(stop)}`);
  const first = lsnToSegmentNo(start, segmentSize);
  const last = lsnToSegmentNo(stop, segmentSize);
  const names: string[] = [];
  for (let segmentNo = first; segmentNo <= last; segmentNo++) names.push(formatSegmentName(timeline, segmentNo, segmentSize));
  return names;
}

/** `00000002.history` for timeline 2. */
export function historyFileName(timeline: number): string {
  return `${hex8(timeline)}.history`;
}

/** `<segment>.<offset>.backup`: the backup history file PostgreSQL writes when a backup stops. */
export function backupHistoryFileName(timeline: number, startLsn: bigint, segmentSize: number): string {
  return `${lsnToSegmentName(timeline, startLsn, segmentSize)}.${hex8(Number(startLsn % BigInt(segmentSize)))}.backup`;
}

// ---------------------------------------------------------------------------------------------------------------------------
// The long page header (repo-format.md section 9.2; identical for PostgreSQL 10 to 18).

/** Bytes of the long header. */
export const WAL_LONG_HEADER_SIZE = 40;
/** How much pgBackRest reads to check a segment's header. */
export const WAL_HEADER_READ_SIZE = 512;
/** xlp_info flag of a long header: set on the first page of every segment. */
export const XLP_LONG_HEADER = 0x0002;

export interface WalHeader {
  readonly version: PgVersionFacts;
  readonly magic: number;
  readonly info: number;
  readonly timeline: number;
  /** LSN of the page (of the segment, for its first page). */
  readonly pageAddress: bigint;
  readonly remainingLength: number;
  readonly systemId: bigint;
  readonly systemIdText: string;
  readonly segmentSize: number;
  readonly blockSize: number;
}

/**
 * Parses the long header of a segment's first page. `source` names the file in messages.
 * The long-header flag must be set; the version comes from the magic; the segment size must be
 * valid.
 */
export function parseWalHeader(data: Uint8Array, source = 'WAL segment'): WalHeader {
  if (data.length < WAL_LONG_HEADER_SIZE) {
    throw new PgkeepError('FileInvalid', `'${source}' is ${data.length} bytes: too short for a WAL segment header`, {
      hint: 'is this a complete WAL segment?',
    });
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic = view.getUint16(0, true);
  const info = view.getUint16(2, true);
  if ((info & XLP_LONG_HEADER) === 0) {
    throw new PgkeepError('Format', `first page header in WAL file '${source}' is expected to be in long format`, {
      hint: 'is this a WAL segment, and is it complete?',
    });
  }
  let version: PgVersionFacts;
  try {
    version = pgVersionByWalMagic(magic);
  } catch (error) {
    const cause = toPgkeepError(error);
    throw new PgkeepError('VersionNotSupported', `${cause.message} in '${source}'`, { hint: cause.hint, cause: error });
  }
  const segmentSize = view.getUint32(32, true);
  if (!isValidWalSegmentSize(segmentSize)) {
    throw new PgkeepError('Format', `WAL file '${source}' has segment size ${segmentSize} in its header, which is not valid`, {
      hint: `a WAL segment size is a power of two from ${WAL_SEGMENT_SIZE_MIN} to ${WAL_SEGMENT_SIZE_MAX}: the file may be damaged`,
    });
  }
  const systemId = view.getBigUint64(24, true);
  return {
    version,
    magic,
    info,
    timeline: view.getUint32(4, true),
    pageAddress: view.getBigUint64(8, true),
    remainingLength: view.getUint32(16, true),
    systemId,
    systemIdText: systemId.toString(),
    segmentSize,
    blockSize: view.getUint32(36, true),
  };
}

/** Reads and parses the header of a WAL file on the local file system (its first 512 bytes). */
export async function readWalHeader(path: string): Promise<WalHeader> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const converted = toPgkeepError(error);
    throw new PgkeepError(
      converted.errorName === 'Unhandled' ? 'FileOpen' : converted.errorName,
      `unable to open WAL file '${path}': ${converted.message}`,
      { cause: error },
    );
  }
  try {
    const buffer = Buffer.alloc(WAL_HEADER_READ_SIZE);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, buffer.length, 0));
    } catch (error) {
      throw new PgkeepError('FileRead', `unable to read WAL file '${path}': ${toPgkeepError(error).message}`, { cause: error });
    }
    return parseWalHeader(buffer.subarray(0, bytesRead), path);
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------------------
// Timeline history files.

export interface TimelineHistoryEntry {
  /** The timeline that ended. */
  readonly parentTimeline: number;
  /** Where it ended: the first LSN of the next timeline. */
  readonly switchLsn: bigint;
  readonly reason: string;
}

/**
 * Parses a timeline history file: one line per ancestor, `<parent TLI>\t<switch LSN>\t<reason>`,
 * oldest first. Blank lines and lines starting with '#' are skipped (as PostgreSQL's
 * readTimeLineHistory does); parent timelines must increase.
 */
export function parseTimelineHistory(text: string, source = 'timeline history file'): TimelineHistoryEntry[] {
  const entries: TimelineHistoryEntry[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.replace(/\r$/, '').replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\d+)\s+([0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8})(?:\s+(.*))?$/.exec(line);
    if (match === null) {
      throw new PgkeepError('Format', `syntax error in ${source} at line ${index + 1}: '${line}'`, {
        hint: 'each line is "<parent timeline>\\t<switch LSN>\\t<reason>"',
      });
    }
    const parentTimeline = Number(match[1]);
    const previous = entries.at(-1);
    if (
      !Number.isSafeInteger(parentTimeline) ||
      parentTimeline > 0xffffffff ||
      (previous !== undefined && parentTimeline <= previous.parentTimeline)
    ) {
      throw new PgkeepError(
        'Format',
        `invalid data in ${source} at line ${index + 1}: timeline IDs must be in increasing sequence`,
      );
    }
    entries.push({ parentTimeline, switchLsn: lsnParse(match[2]!), reason: (match[3] ?? '').trim() });
  }
  return entries;
}
