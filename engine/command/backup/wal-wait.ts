import { setTimeout as sleep } from 'node:timers/promises';

import { PgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { formatSegmentName, parseSegmentName } from '../../postgres/wal.js';
import { archiveSegmentDir, segmentLookupRegex } from '../../repo/archive/archive-path.js';
import { archiveStanzaPath, type StanzaRepo } from '../common/stanza-repo.js';

/** Every segment from the backup's first to its last, on the start timeline (names carry it). */
export function backupSegments(start: string, stop: string, segmentSize: number): string[] {
  const first = parseSegmentName(start, segmentSize);
  const last = parseSegmentName(stop, segmentSize);
  const names: string[] = [];
  for (let segmentNo = first.segmentNo; segmentNo <= last.segmentNo; segmentNo++)
    names.push(formatSegmentName(first.timeline, segmentNo, segmentSize));
  return names;
}

/**
 * Waits until every segment the backup needs is in the archive (archive-check): a backup whose WAL
 * never arrives cannot be restored, so it must fail rather than be recorded as good. Returns where
 * each segment is stored (for archive-copy).
 */
export async function waitForArchivedSegments(
  repo: StanzaRepo,
  archiveId: string,
  segments: readonly string[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  const base = archiveStanzaPath(repo.stanza);
  // The last segment is usually archived within a few hundred ms of the backup stop: look often
  // at first (a directory listing is cheap), then every 100 ms.
  let pause = 10;
  for (;;) {
    for (const segment of segments) {
      if (found.has(segment)) continue;
      const dir = `${base}/${archiveSegmentDir(archiveId, segment)}`;
      const [stored] = await repo.storage.list(dir, { ignoreMissing: true, filter: segmentLookupRegex(segment) });
      if (stored !== undefined) found.set(segment, `${dir}/${stored.name}`);
    }
    if (found.size === segments.length) {
      log.debug(`WAL segments ${segments[0]} to ${segments.at(-1)} are in the archive`);
      return found;
    }
    if (Date.now() >= deadline) {
      const missing = segments.filter((segment) => !found.has(segment));
      throw new PgkeepError(
        'ArchiveTimeout',
        `WAL segment ${missing[0]} was not archived before the ${timeoutMs}ms timeout${segments.length > 1 ? ` (${missing.length} of the backup's ${segments.length} segments are missing)` : ''}`,
        {
          hint:
            "check archive_command and the PostgreSQL log for archiving errors ('pgkeep check' tests archiving); " +
            'the backup is not recorded because it could not be restored without that WAL',
        },
      );
    }
    await sleep(pause, undefined, { signal });
    pause = Math.min(pause * 2, 100);
  }
}
