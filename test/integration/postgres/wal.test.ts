import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, describe, expect, it } from 'vitest';

import { readPgControl } from '../../../engine/postgres/pg-control.js';
import {
  historyFileName,
  isSegmentName,
  lsnParse,
  lsnToSegmentName,
  nextSegmentName,
  parseTimelineHistory,
  readWalHeader,
  segmentStartLsn,
} from '../../../engine/postgres/wal.js';
import { PgCluster } from '../../harness/pg-cluster.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';
import { pgControlData } from './controldata.js';

async function waitForFile(path: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('WAL of a real PostgreSQL 15 cluster', () => {
  const clusters: PgCluster[] = [];
  const directories: string[] = [];
  afterAll(async () => {
    for (const cluster of clusters) await cluster.destroy();
    for (const directory of directories) removeDir(directory);
  });

  it('reads the header of a segment in pg_wal and of the same segment archived, and names segments as PostgreSQL does', async () => {
    const archive = tempDir('wal-archive');
    directories.push(archive);
    const cluster = await PgCluster.create({ fresh: true, archiveCommand: `cp %p ${archive}/%f` });
    clusters.push(cluster);
    await cluster.start();
    await cluster.query('CREATE TABLE t AS SELECT generate_series(1, 1000) AS id');
    const switched = String(await cluster.value('SELECT pg_walfile_name(pg_switch_wal())'));
    expect(isSegmentName(switched)).toBe(true);

    const systemId = (await pgControlData(cluster.dataDir)).get('Database system identifier');
    const segmentSize = (await readPgControl(cluster.dataDir)).walSegmentSize;
    expect(segmentSize).toBe(16 * 1024 * 1024);
    const live = await readWalHeader(join(cluster.dataDir, 'pg_wal', switched));
    expect(live.systemIdText).toBe(systemId);
    expect(live.version.version).toBe('15');
    expect(live.timeline).toBe(1);
    expect(live.segmentSize).toBe(segmentSize);
    expect(live.blockSize).toBe(8192);
    expect(live.pageAddress).toBe(segmentStartLsn(switched, segmentSize));

    await waitForFile(join(archive, switched));
    const archived = await readWalHeader(join(archive, switched));
    expect(archived).toEqual(live);

    // PostgreSQL's own naming agrees with ours for the current insert position and the next segment.
    const row = (
      await cluster.query<{ lsn: string; name: string }>(
        'SELECT pg_current_wal_insert_lsn()::text AS lsn, pg_walfile_name(pg_current_wal_insert_lsn()) AS name',
      )
    )[0]!;
    expect(lsnToSegmentName(1, lsnParse(row.lsn), segmentSize)).toBe(row.name);
    expect(nextSegmentName(switched, segmentSize)).toBe(row.name);
  });

  it('parses the timeline history file written when archive recovery ends on a new timeline', async () => {
    const archive = tempDir('wal-archive');
    directories.push(archive);
    const cluster = await PgCluster.create({ archiveCommand: `cp %p ${archive}/%f` });
    clusters.push(cluster);
    await cluster.start();
    await cluster.query('CREATE TABLE t AS SELECT generate_series(1, 100) AS id');
    const last = String(await cluster.value('SELECT pg_walfile_name(pg_switch_wal())'));
    await waitForFile(join(archive, last));
    await cluster.stop();

    // Archive recovery with no target: replays everything, then starts timeline 2.
    cluster.configure({ restore_command: `'cp ${archive}/%f %p'` });
    writeFileSync(join(cluster.dataDir, 'recovery.signal'), '');
    await cluster.start();
    await waitForFile(join(cluster.dataDir, 'pg_wal', historyFileName(2)));
    const text = readFileSync(join(cluster.dataDir, 'pg_wal', historyFileName(2)), 'utf8');
    const history = parseTimelineHistory(text, historyFileName(2));
    expect(history).toHaveLength(1);
    expect(history[0]!.parentTimeline).toBe(1);
    expect(history[0]!.reason).toBe('no recovery target specified');
    expect(history[0]!.switchLsn).toBeGreaterThan(segmentStartLsn(last, 16 * 1024 * 1024));

    await cluster.query('CHECKPOINT');
    expect((await readPgControl(cluster.dataDir)).timeline).toBe(2);
    // The first segment of timeline 2 starts as a copy of the last one of timeline 1, page headers
    // included (its first page says timeline 1); the segment after it is timeline 2's own.
    const firstOfTwo = String(await cluster.value('SELECT pg_walfile_name(pg_switch_wal())'));
    expect(firstOfTwo.startsWith('00000002')).toBe(true);
    await cluster.query('INSERT INTO t VALUES (1)');
    const newSegment = String(await cluster.value('SELECT pg_walfile_name(pg_current_wal_insert_lsn())'));
    expect(newSegment).toBe(nextSegmentName(firstOfTwo, 16 * 1024 * 1024));
    const header = await readWalHeader(join(cluster.dataDir, 'pg_wal', newSegment));
    expect(header.timeline).toBe(2);
    expect(header.pageAddress).toBe(segmentStartLsn(newSegment, 16 * 1024 * 1024));
  });
});
