import { toPgkeepError } from '../../error/pgkeep-error.js';
import { lsnFormat, lsnParse } from '../../postgres/lsn.js';
import { formatSegmentName, lsnToSegmentNo, parseSegmentName } from '../../postgres/wal.js';
import { formatTime } from '../info/info-text.js';
import type { RecoveryType, RestorePlanTargetCheck, RestorePlanWal, RestorePlanWalEnd } from './plan-json.js';
import { problem, type Problem } from './problems.js';
import { formatTargetTime, parseTargetLsn, parseTargetTime, parseTargetTimeline, parseTargetXid } from './recovery-target.js';
import type { StoredSegment, WalArchive } from './wal-archive.js';
import { scanWalSegment, type WalRecordEvents } from './wal-records.js';

/** How many segments the plan reads at most to look for a name or xid target (16 MiB each: 1 GiB). */
export const WAL_SEARCH_LIMIT = 64;
/** How many segments back from the end of the archive the plan reads to find the last commit. */
const LAST_COMMIT_SEARCH = 16;
const MISSING_SHOWN = 20;

export interface WalCheckBackup {
  readonly label: string;
  readonly archiveStart: string;
  readonly archiveStop: string;
  readonly lsnStop: string | undefined;
  readonly timestampStop: number;
}

export interface WalCheckInput {
  readonly archive: WalArchive;
  readonly segmentSize: number;
  readonly backup: WalCheckBackup;
  readonly type: RecoveryType;
  readonly target: string | undefined;
  readonly targetExclusive: boolean;
  readonly targetTimeline: string | undefined;
  /** Where a name or xid search starts (default: the backup's first segment), to find targets before the backup. */
  readonly searchFrom?: string | undefined;
  readonly searchLimit?: number;
}

export interface WalCheck {
  readonly wal: RestorePlanWal;
  readonly problems: Problem[];
  readonly warnings: string[];
  readonly notes: string[];
  /** Where a name or xid target was found (for choosing the backup). */
  readonly found: bigint | undefined;
}

interface PathTimeline {
  readonly timeline: number;
  /** First segment number read from this timeline (0 for the first). */
  readonly beginSeg: number;
  /** Last segment number on it (Infinity for the target timeline). */
  readonly endSeg: number;
}

/**
 * What recovery from a backup needs from the archive and whether it can reach its target: the
 * timeline path from the backup's timeline to the target timeline (history files), continuous WAL
 * from the backup's first segment (gaps included), where that WAL ends, and the target checked
 * against it: a time must fall before the last commit in the archive, an lsn at or before the end
 * of WAL, a restore point or xid must be found in the WAL (searched when it is small enough).
 */
export async function checkWal(input: WalCheckInput): Promise<WalCheck> {
  const { archive, segmentSize, backup } = input;
  const problems: Problem[] = [];
  const warnings: string[] = [...archive.warnings];
  const notes: string[] = [];
  const startSeg = parseSegmentName(backup.archiveStart, segmentSize).segmentNo;
  const stopSeg = parseSegmentName(backup.archiveStop, segmentSize).segmentNo;
  const backupTimeline = parseSegmentName(backup.archiveStart, segmentSize).timeline;
  const lsnStop = backup.lsnStop === undefined ? undefined : lsnParse(backup.lsnStop);

  // The timeline path
  let targetTimeline = backupTimeline;
  let path: PathTimeline[] = [{ timeline: backupTimeline, beginSeg: 0, endSeg: Infinity }];
  let pathProblem: Problem | undefined;
  const wanted = parseTargetTimeline(input.targetTimeline);
  if (wanted.kind === 'latest') {
    for (let probe = backupTimeline + 1; (await archive.history(probe)) !== undefined; probe++) targetTimeline = probe;
  } else if (wanted.kind === 'id') targetTimeline = wanted.id;
  if (targetTimeline !== backupTimeline) {
    const resolved = await timelinePath(archive, backupTimeline, targetTimeline, lsnStop, segmentSize);
    if ('problem' in resolved) pathProblem = resolved.problem;
    else path = resolved.path;
  }
  const timelines = path.map((entry) => entry.timeline);

  // Continuous WAL from the backup's first segment
  const segmentAt = async (segmentNo: number): Promise<{ name: string; stored: StoredSegment } | undefined> => {
    for (const entry of [...path].reverse()) {
      if (segmentNo < entry.beginSeg || segmentNo > entry.endSeg) continue;
      const name = formatSegmentName(entry.timeline, segmentNo, segmentSize);
      const stored = await archive.segment(name);
      if (stored !== undefined) return { name, stored };
    }
    return undefined;
  };
  const nameAt = (segmentNo: number) => {
    const entry = [...path].reverse().find((item) => segmentNo >= item.beginSeg && segmentNo <= item.endSeg) ?? path[0]!;
    return formatSegmentName(entry.timeline, segmentNo, segmentSize);
  };
  const missingConsistency: string[] = [];
  for (let segmentNo = startSeg; segmentNo <= stopSeg; segmentNo++) {
    if ((await segmentAt(segmentNo)) === undefined) missingConsistency.push(nameAt(segmentNo));
  }
  let endSeg = startSeg - 1;
  if (missingConsistency.length === 0) while ((await segmentAt(endSeg + 1)) !== undefined) endSeg++;

  let gapBefore: string | null = null;
  if (endSeg >= startSeg || missingConsistency.length > 0) {
    const after = missingConsistency.length > 0 ? startSeg : endSeg + 1;
    for (const entry of path) {
      const newest = await archive.newestSegment(entry.timeline);
      if (newest !== undefined && parseSegmentName(newest, segmentSize).segmentNo > after) {
        gapBefore = nameAt(
          missingConsistency.length > 0 ? parseSegmentName(missingConsistency[0]!, segmentSize).segmentNo : after,
        );
        break;
      }
    }
  }

  // The end of the archive: the end of valid WAL and the last commit before it
  let endOfArchive: RestorePlanWalEnd | null = null;
  let endLsn: bigint | undefined;
  let lastCommit: { time: number; segment: string } | undefined;
  let commitSearchComplete = false;
  if (endSeg >= stopSeg && missingConsistency.length === 0) {
    const needCommit = input.type === 'time';
    const lowest = Math.max(startSeg, endSeg - (needCommit ? LAST_COMMIT_SEARCH - 1 : 0));
    for (let segmentNo = endSeg; segmentNo >= lowest; segmentNo--) {
      const at = (await segmentAt(segmentNo))!;
      let commit: number | undefined;
      const summary = await scan(archive, at, segmentSize, {
        transaction: (record) => {
          // PostgreSQL stops a time target at the first commit or abort after it (prepared ones too)
          if (lsnStop === undefined || record.lsn >= lsnStop) commit = Math.max(commit ?? 0, record.time);
        },
      }).catch((caught: unknown) => {
        warnings.push(`WAL segment ${at.name} could not be read to find the end of WAL: ${toPgkeepError(caught).message}`);
        return undefined;
      });
      if (segmentNo === endSeg) endLsn = summary?.endLsn ?? BigInt(segmentNo + 1) * BigInt(segmentSize);
      if (commit !== undefined) {
        lastCommit = { time: commit, segment: at.name };
        break;
      }
      if (!needCommit) break;
      if (segmentNo === startSeg || segmentNo <= stopSeg) commitSearchComplete = true;
    }
    endOfArchive = {
      segment: nameAt(endSeg),
      lsn: lsnFormat(endLsn!),
      lastCommitTime: lastCommit === undefined ? null : lastCommit.time / 1_000_000,
      gapBefore,
    };
    if (gapBefore !== null && input.type === 'default') {
      warnings.push(
        `WAL segment ${gapBefore} is missing from the archive although later WAL is archived: recovery will end at lsn ${lsnFormat(endLsn!)} in ${nameAt(endSeg)}`,
      );
    }
  }

  const consistency = { first: nameAt(startSeg), last: nameAt(stopSeg) };
  const endText = endOfArchive === null ? undefined : `lsn ${endOfArchive.lsn} in segment ${endOfArchive.segment}`;
  const gapText = gapBefore === null ? '' : `: WAL segment ${gapBefore} is missing from the archive (later WAL is archived)`;
  const missingError = gapBefore !== null ? 'ArchiveNotFound' : 'RecoveryTargetUnreachable';
  let needed: RestorePlanWal['needed'] = {
    first: consistency.first,
    last: endOfArchive?.segment ?? null,
    count: endSeg >= startSeg ? endSeg - startSeg + 1 : null,
  };
  let found: bigint | undefined;
  let check: RestorePlanTargetCheck;
  const targetText = input.target ?? null;
  const range = (from: string, to: string | undefined) => (to === undefined ? null : { from, to });

  if (missingConsistency.length > 0) {
    problems.push(
      problem(
        'ArchiveNotFound',
        `WAL segment ${missingConsistency[0]} needed to make backup ${backup.label} consistent is not in the archive`,
        {
          hint: `the backup needs WAL ${consistency.first} to ${consistency.last} (${missingConsistency.length} missing: ${missingConsistency.slice(0, 5).join(', ')}); without it the restored cluster cannot start: restore another backup or put the WAL back into the archive`,
        },
      ),
    );
    check = {
      type: input.type,
      value: targetText,
      status: 'unreachable',
      detail: 'the backup cannot be made consistent',
      recoverable: null,
    };
  } else if (pathProblem !== undefined) {
    problems.push(pathProblem);
    check = { type: input.type, value: targetText, status: 'unreachable', detail: pathProblem.message, recoverable: null };
  } else {
    switch (input.type) {
      case 'immediate':
      case 'standby':
      case 'none':
      case 'preserve':
        needed = { first: consistency.first, last: consistency.last, count: stopSeg - startSeg + 1 };
        check = {
          type: input.type,
          value: targetText,
          status: 'reachable',
          detail:
            input.type === 'immediate'
              ? `recovery stops when the backup is consistent, at lsn ${backup.lsnStop ?? 'unknown'}`
              : input.type === 'standby'
                ? 'the cluster starts as a standby: it replays the archive and then follows it'
                : 'the settings of the recovery are not written by the restore',
          recoverable: null,
        };
        break;
      case 'default':
        check = {
          type: input.type,
          value: targetText,
          status: 'reachable',
          detail: `recovery replays the archive to its end: ${endText}${gapText}`,
          recoverable: range(backup.lsnStop ?? 'unknown', endOfArchive?.lsn),
        };
        break;
      case 'lsn': {
        const target = parseTargetLsn(input.target ?? '');
        const recoverable = range(backup.lsnStop ?? 'unknown', endOfArchive?.lsn);
        if (lsnStop !== undefined && target < lsnStop) {
          const detail = `target lsn ${lsnFormat(target)} is before the end of backup ${backup.label} at lsn ${backup.lsnStop}`;
          problems.push(
            problem('RecoveryTargetUnreachable', detail, {
              hint: `recoverable lsns from this backup are ${backup.lsnStop} to ${endOfArchive?.lsn ?? 'the end of the archive'}: choose an older backup with --set, or leave --set out to let the restore pick one`,
            }),
          );
          check = { type: input.type, value: targetText, status: 'unreachable', detail, recoverable };
        } else if (endLsn !== undefined && target > endLsn) {
          const detail = `target lsn ${lsnFormat(target)} is after the end of the archived WAL, ${endText}${gapText}`;
          problems.push(
            problem(missingError, detail, {
              hint: `recoverable lsns are ${backup.lsnStop ?? 'the end of the backup'} to ${endOfArchive!.lsn}${gapBefore === null ? '; if the WAL is on the server, archive it first (SELECT pg_switch_wal())' : `; put ${gapBefore} back into the archive`}`,
            }),
          );
          check = { type: input.type, value: targetText, status: 'unreachable', detail, recoverable };
        } else {
          const targetSeg = lsnToSegmentNo(target, segmentSize);
          needed = { first: consistency.first, last: nameAt(targetSeg), count: targetSeg - startSeg + 1 };
          check = {
            type: input.type,
            value: targetText,
            status: 'reachable',
            detail: `WAL is archived up to ${endText}`,
            recoverable,
          };
        }
        break;
      }
      case 'time': {
        const target = parseTargetTime(input.target ?? '');
        const recoverable = range(
          formatTargetTime(backup.timestampStop),
          endOfArchive?.lastCommitTime === null || endOfArchive === null
            ? undefined
            : formatTargetTime(endOfArchive.lastCommitTime),
        );
        if (target === undefined) {
          notes.push(
            `the target time '${input.target}' is not in a format the plan reads (YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]): it was not checked`,
          );
          check = { type: input.type, value: targetText, status: 'unchecked', detail: 'time format not understood', recoverable };
          break;
        }
        if (target.local)
          notes.push(
            `the target time has no time zone: it was checked as local time here; PostgreSQL reads it in its TimeZone setting`,
          );
        const reached = (commit: number) => (input.targetExclusive ? commit >= target.micros : commit > target.micros);
        if (target.seconds <= backup.timestampStop) {
          const detail = `target time ${input.target} is not after the end of backup ${backup.label} at ${formatTime(backup.timestampStop)}`;
          problems.push(
            problem('RecoveryTargetUnreachable', detail, {
              hint: `recovery from this backup reaches times after ${formatTime(backup.timestampStop)}: choose an older backup with --set, or leave --set out to let the restore pick one`,
            }),
          );
          check = { type: input.type, value: targetText, status: 'unreachable', detail, recoverable };
        } else if (lastCommit !== undefined && reached(lastCommit.time)) {
          check = {
            type: input.type,
            value: targetText,
            status: 'reachable',
            detail: `a transaction that ended after the target (at ${formatTargetTime(lastCommit.time / 1_000_000)}) is archived: recovery stops at the first commit or abort after the target`,
            recoverable,
          };
        } else if (lastCommit !== undefined || commitSearchComplete) {
          const detail =
            lastCommit === undefined
              ? `no transaction ended after backup ${backup.label} in the archived WAL (up to ${endText})${gapText}`
              : `target time ${input.target} is not before the last transaction in the archive, ended at ${formatTargetTime(lastCommit.time / 1_000_000)} (${endText})${gapText}`;
          problems.push(
            problem(missingError, detail, {
              hint:
                (lastCommit === undefined
                  ? 'recovery to a time stops at the first commit or abort after it: there is none'
                  : `recoverable times are after ${formatTargetTime(backup.timestampStop)} and before ${formatTargetTime(lastCommit.time / 1_000_000)}`) +
                (gapBefore === null
                  ? '; if later WAL is still on the server, archive it first (SELECT pg_switch_wal()), or use --type=default to recover to the end of the archive'
                  : `; put ${gapBefore} back into the archive`),
            }),
          );
          check = { type: input.type, value: targetText, status: 'unreachable', detail, recoverable };
        } else {
          const detail = `no commit found in the last ${LAST_COMMIT_SEARCH} segments of the archive: the end of the archive in time is not known`;
          notes.push(detail);
          check = { type: input.type, value: targetText, status: 'unchecked', detail, recoverable };
        }
        break;
      }
      case 'name':
      case 'xid': {
        const limit = input.searchLimit ?? WAL_SEARCH_LIMIT;
        const from =
          input.searchFrom === undefined
            ? startSeg
            : Math.min(startSeg, parseSegmentName(input.searchFrom, segmentSize).segmentNo);
        const xid = input.type === 'xid' ? parseTargetXid(input.target ?? '') : undefined;
        const what = input.type === 'name' ? `restore point '${input.target}'` : `transaction ${input.target}`;
        if (input.type === 'xid' && xid === undefined) {
          notes.push(`the target xid '${input.target}' is not a number: it was not checked`);
          check = { type: input.type, value: targetText, status: 'unchecked', detail: 'xid not understood', recoverable: null };
          break;
        }
        if (endSeg - from + 1 > limit) {
          const detail = `${what} was not looked for: the archive holds ${endSeg - from + 1} segments after the backup (more than ${limit}); PostgreSQL finds it while replaying, and stops with an error if it is not there`;
          notes.push(detail);
          check = { type: input.type, value: targetText, status: 'unchecked', detail, recoverable: null };
          break;
        }
        const events: WalRecordEvents =
          input.type === 'name'
            ? { restorePoint: (record) => void (record.name === input.target && (found ??= record.lsn)) }
            : {
                transaction: (record) => {
                  if (record.prepared) prepared = true;
                  else if (BigInt(record.xid) === (xid! & 0xffffffffn)) found ??= record.lsn;
                },
              };
        let scanned = true;
        let prepared = false;
        for (let segmentNo = from; segmentNo <= endSeg && found === undefined; segmentNo++) {
          const at = await segmentAt(segmentNo);
          if (at === undefined) continue; // before the backup: another timeline or expired
          await scan(archive, at, segmentSize, events).catch((caught: unknown) => {
            scanned = false;
            warnings.push(`WAL segment ${at.name} could not be read: ${toPgkeepError(caught).message}`);
          });
        }
        if (found !== undefined && (lsnStop === undefined || found >= lsnStop)) {
          needed = {
            first: consistency.first,
            last: nameAt(lsnToSegmentNo(found, segmentSize)),
            count: lsnToSegmentNo(found, segmentSize) - startSeg + 1,
          };
          check = {
            type: input.type,
            value: targetText,
            status: 'reachable',
            detail: `${what} is at lsn ${lsnFormat(found)}`,
            recoverable: null,
          };
        } else if (found !== undefined) {
          const detail = `${what} at lsn ${lsnFormat(found)} is before the end of backup ${backup.label} at lsn ${backup.lsnStop}`;
          problems.push(
            problem('RecoveryTargetUnreachable', detail, {
              hint: 'restore an older backup (--set), one that ended before the target',
            }),
          );
          check = { type: input.type, value: targetText, status: 'unreachable', detail, recoverable: null };
        } else if (prepared) {
          // A prepared transaction's xid is in its commit record's body, in a layout that changes between versions
          const detail = `${what} was not found, but the WAL holds prepared transactions, whose xids the plan does not read: PostgreSQL finds it while replaying if it is there`;
          notes.push(detail);
          check = { type: input.type, value: targetText, status: 'unchecked', detail, recoverable: null };
        } else if (scanned) {
          const detail = `${what} is not in the archived WAL from backup ${backup.label} to ${endText}${gapText}`;
          problems.push(
            problem(missingError, detail, {
              hint:
                input.type === 'name'
                  ? `restore points are made by SELECT pg_create_restore_point('name'); if it was made before the backup, restore an older one (--set); if after the end of the archive, archive the WAL first (SELECT pg_switch_wal())`
                  : 'recovery to an xid stops at its commit or abort record: if the transaction ended before the backup, restore an older one (--set); if later, archive the WAL first',
            }),
          );
          check = { type: input.type, value: targetText, status: 'unreachable', detail, recoverable: null };
        } else {
          check = {
            type: input.type,
            value: targetText,
            status: 'unchecked',
            detail: 'WAL could not be read',
            recoverable: null,
          };
        }
        break;
      }
    }
  }

  const missing = [...missingConsistency];
  if (missing.length === 0 && gapBefore !== null && check.status === 'unreachable') missing.push(gapBefore);
  return {
    wal: {
      segmentSize,
      backupTimeline,
      targetTimeline,
      timelines,
      archiveIds: archive.archiveIds,
      consistency,
      needed,
      endOfArchive,
      missing: missing.slice(0, MISSING_SHOWN),
      complete: missing.length === 0 && check.status !== 'unreachable',
      target: check,
    },
    problems,
    warnings,
    notes,
    found,
  };
}

async function scan(
  archive: WalArchive,
  at: { name: string; stored: StoredSegment },
  segmentSize: number,
  events: WalRecordEvents,
) {
  let summary: Awaited<ReturnType<typeof scanWalSegment>> | undefined;
  await archive.read(at.stored, async (data) => {
    const iterator = data[Symbol.asyncIterator]();
    summary = await scanWalSegment(chunksOf(iterator), at.name, segmentSize, events);
    // The rest of the segment after the end of WAL is read and dropped: the pipeline ends cleanly.
    while ((await iterator.next()).done !== true);
  });
  return summary;
}

/** The chunks of an iterator, leaving it open when the consumer stops early. */
async function* chunksOf(iterator: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return;
    yield next.value;
  }
}

/**
 * The timelines recovery follows from the backup's to the target, from the target's history file:
 * the backup's timeline must be among its ancestors, and the branch must leave it after the backup
 * ended (else the backup is not on the target's history).
 */
async function timelinePath(
  archive: WalArchive,
  backupTimeline: number,
  targetTimeline: number,
  lsnStop: bigint | undefined,
  segmentSize: number,
): Promise<{ path: PathTimeline[] } | { problem: Problem }> {
  const history = await archive.history(targetTimeline);
  if (history === undefined) {
    return {
      problem: problem(
        'RecoveryTargetUnreachable',
        `target timeline ${targetTimeline} is not in the archive: it has no ${targetTimeline.toString(16).toUpperCase().padStart(8, '0')}.history file`,
        {
          hint: `the backup is on timeline ${backupTimeline}; use --target-timeline=current, or a timeline whose history file was archived`,
        },
      ),
    };
  }
  const index = history.findIndex((entry) => entry.parentTimeline === backupTimeline);
  if (index === -1) {
    return {
      problem: problem(
        'RecoveryTargetUnreachable',
        `target timeline ${targetTimeline} does not descend from timeline ${backupTimeline} of the backup (its history: ${history.map((entry) => entry.parentTimeline).join(', ') || 'none'})`,
        { hint: `restore a backup taken on one of those timelines, or choose --target-timeline=current` },
      ),
    };
  }
  const branch = history[index]!;
  if (lsnStop !== undefined && branch.switchLsn < lsnStop) {
    return {
      problem: problem(
        'RecoveryTargetUnreachable',
        `target timeline ${targetTimeline} left timeline ${backupTimeline} at lsn ${lsnFormat(branch.switchLsn)}, before the backup ended at lsn ${lsnFormat(lsnStop)}`,
        { hint: 'restore a backup that ended before the branch, or choose --target-timeline=current' },
      ),
    };
  }
  const path: PathTimeline[] = [];
  let begin = 0;
  for (let item = index; item < history.length; item++) {
    const entry = history[item]!;
    const end = lsnToSegmentNo(entry.switchLsn, segmentSize);
    path.push({ timeline: entry.parentTimeline, beginSeg: begin, endSeg: end });
    begin = end;
  }
  path.push({ timeline: targetTimeline, beginSeg: begin, endSeg: Infinity });
  return { path };
}
