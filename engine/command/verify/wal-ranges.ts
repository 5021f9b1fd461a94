import { PgkeepError } from '../../error/pgkeep-error.js';
import { formatSegmentName, parseSegmentName } from '../../postgres/wal.js';

/*
 * WAL continuity: which segments of a timeline are present as unbroken runs, where the gaps are,
 * and which segments a backup needs. Pure functions over 24-character segment names, so the
 * verify command and the tests share them.
 */

/** An unbroken run of segments on one timeline, both ends included. */
export interface WalRange {
  readonly timeline: number;
  readonly start: string;
  readonly stop: string;
}

/** Segments absent between two runs of one timeline: `segments` names from start to stop. */
export interface MissingRange extends WalRange {
  readonly segments: number;
}

export interface TimelineContinuity {
  readonly timeline: number;
  /** Runs, oldest first. One run means the timeline has no gap. */
  readonly ranges: WalRange[];
  /** Gaps between the runs, oldest first. */
  readonly missing: MissingRange[];
}

/**
 * Groups segment names by timeline into unbroken runs and the gaps between them, for segments of
 * `segmentSize` bytes (which decides how many segments an xlogid holds: 256 for 16 MiB). Names may
 * come in any order and more than once. Only the span from the oldest to the newest segment of each
 * timeline is judged: WAL before the oldest was expired, WAL after the newest is not archived yet.
 */
export function walContinuity(segments: Iterable<string>, segmentSize: number): TimelineContinuity[] {
  const byTimeline = new Map<number, Set<number>>();
  for (const name of segments) {
    const { timeline, segmentNo } = parseSegmentName(name, segmentSize);
    let numbers = byTimeline.get(timeline);
    if (numbers === undefined) byTimeline.set(timeline, (numbers = new Set()));
    numbers.add(segmentNo);
  }
  const result: TimelineContinuity[] = [];
  for (const timeline of [...byTimeline.keys()].sort((a, b) => a - b)) {
    const numbers = [...byTimeline.get(timeline)!].sort((a, b) => a - b);
    const name = (segmentNo: number) => formatSegmentName(timeline, segmentNo, segmentSize);
    const ranges: WalRange[] = [];
    const missing: MissingRange[] = [];
    let first = numbers[0]!;
    let last = first;
    for (const segmentNo of numbers.slice(1)) {
      if (segmentNo !== last + 1) {
        ranges.push({ timeline, start: name(first), stop: name(last) });
        missing.push({ timeline, start: name(last + 1), stop: name(segmentNo - 1), segments: segmentNo - last - 1 });
        first = segmentNo;
      }
      last = segmentNo;
    }
    ranges.push({ timeline, start: name(first), stop: name(last) });
    result.push({ timeline, ranges, missing });
  }
  return result;
}

/**
 * The segments a backup needs to be consistent: every one from its archive start to its archive
 * stop. A backup cannot change timeline between the two (PostgreSQL fails the backup when a
 * standby is promoted during it); should the names still differ in timeline, the start segment is
 * taken on its own timeline and the rest on the stop segment's.
 */
export function backupWalSegments(archiveStart: string, archiveStop: string, segmentSize: number): string[] {
  const start = parseSegmentName(archiveStart, segmentSize);
  const stop = parseSegmentName(archiveStop, segmentSize);
  if (stop.segmentNo < start.segmentNo) {
    throw new PgkeepError('Format', `backup archive stop '${archiveStop}' comes before its archive start '${archiveStart}'`);
  }
  const names = [formatSegmentName(start.timeline, start.segmentNo, segmentSize)];
  for (let segmentNo = start.segmentNo + 1; segmentNo <= stop.segmentNo; segmentNo++) {
    names.push(formatSegmentName(stop.timeline, segmentNo, segmentSize));
  }
  return names;
}

/** Sorted segment names as unbroken runs (to report many names in a few words). */
export function segmentRuns(segments: readonly string[], segmentSize: number): WalRange[] {
  return walContinuity(segments, segmentSize).flatMap((timeline) => timeline.ranges);
}

/** `A-B`, or `A` for a run of one segment. */
export function formatRange(range: { readonly start: string; readonly stop: string }): string {
  return range.start === range.stop ? range.start : `${range.start}-${range.stop}`;
}
