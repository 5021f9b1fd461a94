import { afterAll, describe, expect, it } from 'vitest';

import { readPgControl, type PgControl } from '../../../engine/postgres/pg-control.js';
import { PgCluster } from '../../harness/pg-cluster.js';
import { cTime, pgControlData } from './controldata.js';

function expectMatchesControlData(control: PgControl, fields: Map<string, string>): void {
  expect(String(control.controlVersion)).toBe(fields.get('pg_control version number'));
  expect(String(control.catalogVersion)).toBe(fields.get('Catalog version number'));
  expect(control.systemIdText).toBe(fields.get('Database system identifier'));
  expect(control.stateName).toBe(fields.get('Database cluster state'));
  expect(cTime(control.time)).toBe(fields.get('pg_control last modified'));
  expect(control.checkpointText).toBe(fields.get('Latest checkpoint location'));
  expect(String(control.timeline)).toBe(fields.get("Latest checkpoint's TimeLineID"));
  expect(String(control.blockSize)).toBe(fields.get('Database block size'));
  expect(String(control.relSegSize)).toBe(fields.get('Blocks per segment of large relation'));
  expect(String(control.walBlockSize)).toBe(fields.get('WAL block size'));
  expect(String(control.walSegmentSize)).toBe(fields.get('Bytes per WAL segment'));
  expect(String(control.dataChecksumVersion)).toBe(fields.get('Data page checksum version'));
}

describe('pg_control of a real PostgreSQL 15 cluster', () => {
  const clusters: PgCluster[] = [];
  afterAll(async () => {
    for (const cluster of clusters) await cluster.destroy();
  });

  it('reads every field as pg_controldata prints it, running and stopped', async () => {
    const cluster = await PgCluster.create({ fresh: true });
    clusters.push(cluster);
    await cluster.start();
    await cluster.query('CREATE TABLE t AS SELECT generate_series(1, 1000) AS id');
    await cluster.query('CHECKPOINT');

    const running = await readPgControl(cluster.dataDir);
    expect(running.version.version).toBe('15');
    expect(running.stateName).toBe('in production');
    expect(running.pageChecksum).toBe(true);
    expectMatchesControlData(running, await pgControlData(cluster.dataDir));
    expect(running.systemIdText).toBe(await cluster.value('SELECT system_identifier::text FROM pg_control_system()'));
    expect(running.checkpointText).toBe(await cluster.value('SELECT checkpoint_lsn::text FROM pg_control_checkpoint()'));

    await cluster.stop();
    const stopped = await readPgControl(cluster.dataDir);
    expect(stopped.stateName).toBe('shut down');
    expect(stopped.checkpoint > running.checkpoint).toBe(true);
    expectMatchesControlData(stopped, await pgControlData(cluster.dataDir));
  });

  it('reads a valid pg_control while checkpoints rewrite it', async () => {
    const cluster = await PgCluster.create();
    clusters.push(cluster);
    await cluster.start();
    const systemId = String(await cluster.value('SELECT system_identifier::text FROM pg_control_system()'));
    // Checkpoints rewrite pg_control over and over while it is read as fast as possible.
    let checkpoints = 0;
    const writer = (async () => {
      while (checkpoints < 20) {
        await cluster.query('SELECT pg_switch_wal(); CHECKPOINT');
        checkpoints++;
      }
    })();
    const checkpointsSeen = new Set<string>();
    let reads = 0;
    while (checkpoints < 20) {
      const control = await readPgControl(cluster.dataDir, { pauseMs: 5 });
      expect(control.systemIdText).toBe(systemId);
      checkpointsSeen.add(control.checkpointText);
      reads++;
    }
    await writer;
    expect(reads).toBeGreaterThan(20);
    expect(checkpointsSeen.size).toBeGreaterThan(5);
  });
});
