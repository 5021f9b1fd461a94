import { PgkeepError } from '../../error/pgkeep-error.js';
import {
  COMPRESS_EXTENSION_PATTERN,
  compressExtension,
  compressTypeFromExtension,
  type CompressType,
} from '../../filter/compress-type.js';
import { compareBytes } from '../info/json-value.js';

/**
 * Where WAL lives in the repository (repo-format 1.1), relative to `archive/<stanza>/`:
 *
 * - a segment (or `.partial` segment) as `<archive id>/<first 16 chars>/<name>-<sha1>[.<ext>]`,
 *   the SHA-1 being that of the uncompressed segment;
 * - a `.backup` file (its name also starts with 24 hex characters) as
 *   `<archive id>/<first 16 chars>/<name>`, never compressed;
 * - anything else (`<timeline>.history`) as `<archive id>/<name>`, never compressed.
 *
 * The character classes are pgBackRest's own: `[0-F]` and `[0-f]` are ASCII ranges (they also
 * admit `:;<=>?@` and more), kept as they are so pgkeep recognises exactly the names pgBackRest does.
 */

const SEGMENT_PREFIX = '[0-F]{24}';
/** Segments and partial segments (what is compressed and named with a checksum). */
export const WAL_SEGMENT_REGEX = new RegExp(`^${SEGMENT_PREFIX}(\\.partial){0,1}$`);
/** Names stored under the 16-character directory. */
export const WAL_SEGMENT_PREFIX_REGEX = new RegExp(`^${SEGMENT_PREFIX}`);
/** The 16-character directories (timeline + log id). */
export const WAL_SEGMENT_DIR_REGEX = /^[0-F]{16}$/;
/** Stored complete segments (pgBackRest's WAL_SEGMENT_FILE_REGEXP: what info's min/max count). */
export const WAL_SEGMENT_FILE_REGEX = new RegExp(`^${SEGMENT_PREFIX}-[0-f]{40}${COMPRESS_EXTENSION_PATTERN}{0,1}$`);
/** Stored segments including partial ones. */
export const STORED_SEGMENT_REGEX = new RegExp(
  `^(${SEGMENT_PREFIX})(\\.partial){0,1}-([0-f]{40})${COMPRESS_EXTENSION_PATTERN}{0,1}$`,
);
export const TIMELINE_HISTORY_REGEX = /^[0-F]{8}\.history$/;

export const PARTIAL_EXT = '.partial';

export function isWalSegment(name: string): boolean {
  return WAL_SEGMENT_REGEX.test(name);
}

export function isPartialSegment(name: string): boolean {
  return isWalSegment(name) && name.endsWith(PARTIAL_EXT);
}

/** `<archive id>/<first 16>/<file>` for names starting with 24 segment characters, else `<archive id>/<file>`. */
export function archiveFilePath(archiveId: string, file: string): string {
  if (file.includes('/') || file.length === 0)
    throw new PgkeepError('Assert', `archive file name '${file}' is not a plain file name`);
  return WAL_SEGMENT_PREFIX_REGEX.test(file) ? `${archiveId}/${file.slice(0, 16)}/${file}` : `${archiveId}/${file}`;
}

/** The directory a segment is stored in: `<archive id>/<first 16>`. */
export function archiveSegmentDir(archiveId: string, segment: string): string {
  return `${archiveId}/${segment.slice(0, 16)}`;
}

/** `<segment>[.partial]-<sha1>[.<ext>]`: a segment's name in the repository. */
export function archiveSegmentName(segment: string, sha1: string, compressType: CompressType): string {
  if (!isWalSegment(segment)) throw new PgkeepError('Assert', `'${segment}' is not a WAL segment name`);
  if (!/^[0-9a-f]{40}$/.test(sha1)) throw new PgkeepError('Assert', `'${sha1}' is not a SHA-1 in lower-case hex`);
  return `${segment}-${sha1}${compressExtension(compressType)}`;
}

/** Full path of a stored segment, relative to `archive/<stanza>/`. */
export function archiveSegmentPath(archiveId: string, segment: string, sha1: string, compressType: CompressType): string {
  return archiveFilePath(archiveId, archiveSegmentName(segment, sha1, compressType));
}

export interface SegmentLookupOptions {
  /** Also match the `.partial` form of a complete segment name (default: only the exact form asked for). */
  readonly includePartial?: boolean;
}

/**
 * The expression that finds a stored segment when listing its directory. pgBackRest
 * (walSegmentFind) matches the exact form asked for: `^<seg>-<sha1>[ext]$` for a segment and
 * `^<seg>.partial-<sha1>[ext]$` for a partial one; includePartial gives the brief's
 * `^<seg>(\.partial)?-[0-f]{40}(ext)?$`. More than one match is a duplicate (an error).
 */
export function segmentLookupRegex(segment: string, options: SegmentLookupOptions = {}): RegExp {
  if (!isWalSegment(segment)) throw new PgkeepError('Assert', `'${segment}' is not a WAL segment name`);
  const base = segment.slice(0, 24);
  const partial = options.includePartial === true ? '(\\.partial)?' : segment.endsWith(PARTIAL_EXT) ? '\\.partial' : '';
  return new RegExp(`^${base}${partial}-[0-f]{40}${COMPRESS_EXTENSION_PATTERN}?$`);
}

export interface StoredSegment {
  /** The 24-character segment name. */
  readonly segment: string;
  readonly partial: boolean;
  /** SHA-1 of the uncompressed segment. */
  readonly sha1: string;
  readonly compressType: CompressType;
}

/** Reads a stored segment name; undefined when it is not one. */
export function parseStoredSegmentName(name: string): StoredSegment | undefined {
  const match = STORED_SEGMENT_REGEX.exec(name);
  if (match === null) return undefined;
  return { segment: match[1]!, partial: match[2] !== undefined, sha1: match[3]!, compressType: compressTypeFromExtension(name) };
}

export interface ArchiveRange {
  /** Oldest and newest stored segment (24 characters), or null when there is none. */
  readonly min: string | null;
  readonly max: string | null;
}

/**
 * The oldest and newest complete segments of an archive id from a listing (what `info` shows):
 * directory name -> names in it. Directories and names that are not segments are ignored.
 */
export function archiveRange(listing: ReadonlyMap<string, readonly string[]>): ArchiveRange {
  const dirs = [...listing.keys()].filter((dir) => WAL_SEGMENT_DIR_REGEX.test(dir)).sort(compareBytes);
  const segments = (dir: string) =>
    listing
      .get(dir)!
      .filter((name) => WAL_SEGMENT_FILE_REGEX.test(name))
      .sort(compareBytes);
  let min: string | null = null;
  let max: string | null = null;
  for (const dir of dirs) {
    const names = segments(dir);
    if (names.length > 0) {
      min = names[0]!.slice(0, 24);
      break;
    }
  }
  for (const dir of dirs.reverse()) {
    const names = segments(dir);
    if (names.length > 0) {
      max = names.at(-1)!.slice(0, 24);
      break;
    }
  }
  return { min, max };
}
