import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { decryptBuffer } from '../../filter/cipher.js';
import { historyFileName, parseSegmentName, parseTimelineHistory } from '../../postgres/wal.js';
import {
  PARTIAL_EXT,
  parseStoredSegmentName,
  STORED_SEGMENT_REGEX,
  TIMELINE_HISTORY_REGEX,
  WAL_SEGMENT_DIR_REGEX,
  type StoredSegment,
} from '../../repo/archive/archive-path.js';
import { compareBytes } from '../../repo/info/json-value.js';
import { archiveStanzaPath, type StanzaRepo } from '../common/stanza-repo.js';
import { measureFiles, type MeasureRequest, type MeasureSettings } from './measure.js';
import type { VerifyFileResult } from './verify-file.js';
import { newArchiveReport, reasonText, type ArchiveReport, type Verdict } from './verify-report.js';
import { formatRange, walContinuity } from './wal-ranges.js';

/** PostgreSQL's default WAL segment size: used for an archive id none of whose segments could be read. */
export const DEFAULT_WAL_SEGMENT_SIZE = 16 * 1024 * 1024;

/** What verify knows of one complete segment of an archive id once its files were checked. */
export type SegmentState = 'valid' | 'invalid' | 'duplicate';

export interface ArchiveResult {
  readonly report: ArchiveReport;
  /** Complete segments (24 characters) present in the archive id, and their state. */
  readonly segments: Map<string, SegmentState>;
}

/** `--set`: only the segments from the backup's archive start to its archive stop. */
export interface SegmentWindow {
  readonly start: string;
  readonly stop: string;
}

interface StoredWal extends StoredSegment {
  /** Path relative to the archive id: `<16 chars>/<name>`. */
  readonly file: string;
  readonly size: number;
}

/**
 * Verifies the WAL of one archive id: every stored segment (and `.partial` one) is decompressed,
 * its SHA-1 compared with the one in its name and its size with the WAL segment size; segments
 * stored twice are duplicates (not verified, as in pgBackRest); gaps between the oldest and newest
 * segment of each timeline are missing ranges; timeline history files must parse.
 */
export async function verifyArchiveId(
  repo: StanzaRepo,
  archiveId: string,
  settings: MeasureSettings,
  window: SegmentWindow | undefined,
  /** archive.info's passphrase of the WAL files, in an encrypted repository. */
  cipherPass: string | undefined,
): Promise<ArchiveResult> {
  const base = `${archiveStanzaPath(repo.stanza)}/${archiveId}`;
  const report = newArchiveReport(archiveId, DEFAULT_WAL_SEGMENT_SIZE);
  const stored = await listWal(repo, base, window);

  // Segments stored more than once: archive-get refuses them, pgBackRest's verify skips them
  const groups = new Map<string, StoredWal[]>();
  for (const wal of stored) {
    const key = wal.segment + (wal.partial ? PARTIAL_EXT : '');
    groups.set(key, [...(groups.get(key) ?? []), wal]);
  }
  const toCheck: StoredWal[] = [];
  for (const [key, files] of groups) {
    if (files.length === 1) toCheck.push(files[0]!);
    else {
      report.duplicates.push(key);
      log.info(`duplicate WAL '${key}' for '${archiveId}' exists, skipping`);
    }
  }

  const requests: MeasureRequest[] = toCheck.map((wal) => ({
    key: `${base}/${wal.file}`,
    size: wal.size,
    job: {
      path: repo.storage.resolve(`${base}/${wal.file}`),
      compressType: wal.compressType,
      content: true,
      walHeader: true,
      size: wal.size,
      cipherPass,
    },
  }));
  const measured = await measureFiles(requests, settings);
  report.segmentSize = archiveSegmentSize(toCheck.map((wal) => ({ wal, result: measured.get(`${base}/${wal.file}`)! })));

  const segments = new Map<string, SegmentState>();
  for (const wal of stored) {
    if (wal.partial) report.partialChecked++;
    else report.walChecked++;
  }
  for (const key of report.duplicates) if (!key.endsWith(PARTIAL_EXT)) segments.set(key, 'duplicate');
  for (const wal of toCheck) {
    const verdict = classifyWal(wal, measured.get(`${base}/${wal.file}`)!, report.segmentSize);
    if (!wal.partial) segments.set(wal.segment, verdict === undefined ? 'valid' : 'invalid');
    if (verdict === undefined) {
      if (wal.partial) report.partialValid++;
      else report.walValid++;
      continue;
    }
    const file = `${archiveId}/${wal.file}`;
    report.invalidFiles.push({ file, ...verdict, ...(wal.partial ? { partial: true } : {}) });
    if (!wal.partial) report.counts[verdict.reason]++;
    // WAL may be gone because expire removed it meanwhile: not necessarily an error (pgBackRest)
    if (verdict.reason === 'missing') log.warn(`${reasonText(verdict.reason)} '${file}'`);
    else log.info(`${reasonText(verdict.reason)} '${file}': ${verdict.detail}`);
  }

  continuity(report, [...segments.keys()]);
  if (window === undefined) await checkHistoryFiles(repo, base, report, cipherPass);
  return { report, segments };
}

async function listWal(repo: StanzaRepo, base: string, window: SegmentWindow | undefined): Promise<StoredWal[]> {
  const inWindow = (name: string, length: number) =>
    window === undefined ||
    (compareBytes(name, window.start.slice(0, length)) >= 0 && compareBytes(name, window.stop.slice(0, length)) <= 0);
  const dirs = (await repo.storage.list(base, { ignoreMissing: true, filter: WAL_SEGMENT_DIR_REGEX }))
    .filter((entry) => entry.type === 'path' && inWindow(entry.name, 16))
    .map((entry) => entry.name);
  const stored: StoredWal[] = [];
  for (const dir of dirs.sort(compareBytes)) {
    for (const entry of await repo.storage.list(`${base}/${dir}`, { ignoreMissing: true, filter: STORED_SEGMENT_REGEX })) {
      const parsed = parseStoredSegmentName(entry.name)!;
      if (entry.type !== 'file' || !inWindow(parsed.segment, 24)) continue;
      stored.push({ ...parsed, file: `${dir}/${entry.name}`, size: entry.size });
    }
  }
  return stored;
}

/**
 * The archive id's segment size: what the headers of its valid segments say (the most common
 * value, should they disagree). pgBackRest reads the header of the first segment; a damaged first
 * segment must not decide the size of all the others.
 */
function archiveSegmentSize(checked: readonly { wal: StoredWal; result: VerifyFileResult }[]): number {
  const votes = new Map<number, number>();
  for (const { wal, result } of checked) {
    if (result.status !== 'read' || result.segmentSize === undefined || result.checksum !== wal.sha1) continue;
    votes.set(result.segmentSize, (votes.get(result.segmentSize) ?? 0) + 1);
  }
  let best = DEFAULT_WAL_SEGMENT_SIZE;
  let most = 0;
  for (const [size, count] of votes) {
    if (count > most) [best, most] = [size, count];
  }
  return best;
}

/** Why a WAL file is not valid (undefined when it is), in pgBackRest's order: missing, checksum, size. */
export function classifyWal(wal: { readonly sha1: string }, result: VerifyFileResult, segmentSize: number): Verdict | undefined {
  if (result.status === 'missing') return { reason: 'missing' };
  if (result.status === 'failed') return { reason: 'other', detail: result.error };
  if (result.checksum !== wal.sha1) return { reason: 'checksumInvalid', detail: `content has SHA-1 ${result.checksum}` };
  if (result.size !== segmentSize) return { reason: 'sizeInvalid', detail: `${result.size} bytes, not ${segmentSize}` };
  return undefined;
}

/** Runs and gaps per timeline of the complete segments present. */
function continuity(report: ArchiveReport, segments: readonly string[]): void {
  const names: string[] = [];
  for (const name of segments) {
    try {
      parseSegmentName(name, report.segmentSize);
      names.push(name);
    } catch (error) {
      // pgBackRest's [0-F] admits a few characters that are not hex; PostgreSQL never writes them
      log.warn(`archiveId: ${report.archiveId}, '${name}' is left out of the WAL ranges: ${toPgkeepError(error).message}`);
    }
  }
  for (const timeline of walContinuity(names, report.segmentSize)) {
    report.ranges.push(...timeline.ranges);
    report.missingRanges.push(...timeline.missing);
  }
  for (const range of report.ranges)
    log.detail(`archiveId: ${report.archiveId}, wal start: ${range.start}, wal stop: ${range.stop}`);
  for (const gap of report.missingRanges) {
    log.info(`archiveId: ${report.archiveId}, missing WAL: ${formatRange(gap)} (${gap.segments} segment(s))`);
  }
}

/**
 * Timeline history files (pgBackRest 2.45 does not look at them): each must parse, and every
 * timeline it lists must be older than its own. A timeline after the first whose WAL is archived
 * but whose history file is not is a warning: recovery across the switch needs it.
 */
async function checkHistoryFiles(
  repo: StanzaRepo,
  base: string,
  report: ArchiveReport,
  cipherPass: string | undefined,
): Promise<void> {
  const files = (await repo.storage.list(base, { ignoreMissing: true, filter: TIMELINE_HISTORY_REGEX })).filter(
    (entry) => entry.type === 'file',
  );
  const present = new Set<number>();
  for (const entry of files) {
    report.historyChecked++;
    const timeline = parseInt(entry.name.slice(0, 8), 16);
    present.add(timeline);
    try {
      const stored = (await repo.storage.readBuffer(`${base}/${entry.name}`))!;
      const content = cipherPass === undefined ? stored : decryptBuffer(stored, cipherPass, `${report.archiveId}/${entry.name}`);
      const parents = parseTimelineHistory(content.toString('utf8'), `${report.archiveId}/${entry.name}`);
      const newest = parents.at(-1);
      if (newest !== undefined && newest.parentTimeline >= timeline) {
        throw new PgkeepError(
          'Format',
          `it lists timeline ${newest.parentTimeline}, which is not older than its own timeline ${timeline}`,
        );
      }
    } catch (error) {
      const detail = toPgkeepError(error).message;
      report.historyInvalid.push({ file: `${report.archiveId}/${entry.name}`, reason: 'other', detail });
      log.info(`invalid history file '${report.archiveId}/${entry.name}': ${detail}`);
    }
  }
  const timelines = new Set(report.ranges.map((range) => range.timeline).filter((timeline) => timeline > 1));
  report.historyMissing.push(...[...timelines].filter((timeline) => !present.has(timeline)).map(historyFileName));
}
