import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isPgkeepError } from '../../../engine/error/pgkeep-error.js';
import { PgClient, type PgConnectOptions } from '../../../engine/postgres/client.js';
import { readPgControl } from '../../../engine/postgres/pg-control.js';
import { isSegmentName, lsnParse, lsnToSegmentName, segmentRange } from '../../../engine/postgres/wal.js';
import { PgCluster } from '../../harness/pg-cluster.js';
import { freePort } from '../../harness/ports.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

const SEG16 = 16 * 1024 * 1024;

async function waitForFile(path: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('PgClient on a real PostgreSQL 15 cluster', () => {
  let cluster: PgCluster;
  let archive: string;
  let tablespace: string;
  const clients: PgClient[] = [];
  const options = (): PgConnectOptions => ({
    socketPath: cluster.socketDir,
    port: cluster.port,
    user: 'postgres',
    database: 'postgres',
    timeoutMs: 30_000,
  });
  const connect = async (extra: Partial<PgConnectOptions> = {}) => {
    const client = await PgClient.connect({ ...options(), ...extra });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    archive = tempDir('client-archive');
    cluster = await PgCluster.create({ archiveCommand: `cp %p ${archive}/%f` });
    await cluster.start();
    tablespace = await cluster.createTablespace('ts1');
    await cluster.query('CREATE TABLE in_ts (id int) TABLESPACE ts1');
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await cluster.destroy();
    removeDir(archive);
  });

  it('connects on the socket and reads version, settings and recovery state', async () => {
    const client = await connect();
    expect(client.target).toBe(`socket '${cluster.socketDir}' port ${cluster.port}`);
    expect(client.versionFacts.version).toBe('15');
    expect(client.serverVersionNum).toBe(Number(await cluster.value('SHOW server_version_num')));
    expect(await client.version()).toBe(client.serverVersionNum);
    expect(await client.dataDirectory()).toBe(cluster.dataDir);
    expect(await client.setting('wal_level')).toBe('replica');
    expect(await client.setting('no_such_setting')).toBeNull();
    expect(await client.archiveMode()).toBe('on');
    expect(await client.archiveCommand()).toBe(`cp %p ${archive}/%f`);
    expect(await client.isInRecovery()).toBe(false);
    const sessions = await cluster.query<{ application_name: string }>(
      "SELECT application_name FROM pg_stat_activity WHERE application_name = 'pgkeep'",
    );
    expect(sessions.length).toBeGreaterThan(0);
  });

  it('refuses settings a user without pg_read_all_settings cannot see, as pgBackRest does', async () => {
    await cluster.query('CREATE ROLE pgkeep_plain LOGIN');
    const client = await connect({ user: 'pgkeep_plain' });
    expect(await client.setting('wal_level')).toBe('replica');
    await expect(client.dataDirectory()).rejects.toMatchObject({
      errorName: 'DbQuery',
      message: `unable to read setting 'data_directory' from pg_settings on ${client.target}`,
      hint: 'is pgkeep connecting as the postgres user? another user needs the pg_read_all_settings role',
    });
    await cluster.query('GRANT pg_read_all_settings TO pgkeep_plain');
    expect(await client.dataDirectory()).toBe(cluster.dataDir);
  });

  it('connects over TCP to a host', async () => {
    const client = await connect({ socketPath: undefined, host: '127.0.0.1' });
    expect(client.target).toBe(`host '127.0.0.1' port ${cluster.port}`);
    expect(await client.isInRecovery()).toBe(false);
  });

  it('lists tablespaces with their locations and databases with pgBackRest last system id', async () => {
    const client = await connect();
    const tablespaces = await client.tablespaces();
    expect(tablespaces.map((entry) => entry.name)).toEqual(['pg_default', 'pg_global', 'ts1']);
    expect(tablespaces[0]).toEqual({ oid: 1663, name: 'pg_default', location: null });
    expect(tablespaces[2]).toEqual({
      oid: Number(await cluster.value("SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'")),
      name: 'ts1',
      location: tablespace,
    });

    const databases = await client.databases();
    const template0 = Number(await cluster.value("SELECT oid FROM pg_database WHERE datname = 'template0'"));
    expect(databases.map((entry) => entry.name).sort()).toEqual(['postgres', 'template0', 'template1']);
    for (const database of databases) {
      expect(database.oid).toBe(Number(await cluster.value('SELECT oid FROM pg_database WHERE datname = $1', [database.name])));
      expect(database.lastSystemId).toBe(template0);
    }
  });

  it('reads the database clock with a fraction', async () => {
    const client = await connect();
    const before = Date.now() / 1000;
    const now = await client.now();
    const after = Date.now() / 1000;
    expect(now).toBeGreaterThanOrEqual(before - 2);
    expect(now).toBeLessThanOrEqual(after + 2);
    const samples = [now, await client.now(), await client.now()];
    expect(samples.some((value) => !Number.isInteger(value))).toBe(true);
  });

  it('switches WAL, also on an idle cluster, and the segment reaches the archive', async () => {
    const client = await connect();
    const first = await client.switchWal();
    expect(isSegmentName(first)).toBe(true);
    await waitForFile(join(archive, first));
    // Nothing was written since: the restore point gives pg_switch_wal something to close.
    const second = await client.switchWal();
    expect(second > first).toBe(true);
    await waitForFile(join(archive, second));
  });

  it('runs a checkpoint that moves pg_control', async () => {
    const client = await connect();
    const before = await readPgControl(cluster.dataDir);
    await cluster.query('INSERT INTO in_ts VALUES (1)');
    await client.checkpoint();
    expect((await readPgControl(cluster.dataDir)).checkpoint > before.checkpoint).toBe(true);
  });

  it('starts and stops a non-exclusive backup on one session, returning backup_label and tablespace_map', async () => {
    const client = await connect();
    const start = await client.backupStart(undefined, true);
    expect(start.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(start.timeline).toBe(1);
    expect(start.walSegmentName).toBe(lsnToSegmentName(1, lsnParse(start.lsn), SEG16));
    expect(start.walSegmentCheck).toBeUndefined();
    // pgBackRest's check: the backup start checkpoint is in pg_control.
    expect((await readPgControl(cluster.dataDir)).checkpoint >= lsnParse(start.lsn)).toBe(true);

    // Another session (another pgkeep or pgBackRest) cannot start a backup meanwhile.
    const other = await connect();
    const refused = await other.backupStart(undefined, true).catch((error: unknown) => error);
    expect(isPgkeepError(refused, 'LockAcquire')).toBe(true);
    expect(refused).toMatchObject({ hint: 'is another pgkeep or pgBackRest backup already running on this cluster?' });

    await cluster.query('INSERT INTO in_ts SELECT generate_series(1, 1000)');
    const stop = await client.backupStop();
    expect(lsnParse(stop.lsn) > lsnParse(start.lsn)).toBe(true);
    expect(stop.walSegmentName).toBe(String(await cluster.value('SELECT pg_walfile_name($1::pg_lsn)', [stop.lsn])));

    const label = stop.backupLabel;
    expect(label).toContain(`START WAL LOCATION: ${start.lsn} (file ${start.walSegmentName})\n`);
    expect(label).toMatch(/^CHECKPOINT LOCATION: [0-9A-F]+\/[0-9A-F]+$/m);
    expect(label).toContain('BACKUP METHOD: streamed\n');
    expect(label).toContain('BACKUP FROM: primary\n');
    expect(label).toMatch(/^LABEL: pgkeep backup started at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/m);
    expect(label).toContain('START TIMELINE: 1\n');
    const tablespaceOid = String(await cluster.value("SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'"));
    expect(stop.tablespaceMap).toBe(`${tablespaceOid} ${tablespace}\n`);

    const needed = segmentRange(start.timeline, lsnParse(start.lsn), lsnParse(stop.lsn), SEG16);
    expect(needed[0]).toBe(start.walSegmentName);
    expect(needed.at(-1)).toBe(stop.walSegmentName);

    // backupStop freed the lock: the other session starts the next backup while the first is still open.
    expect(await client.isInRecovery()).toBe(false);
    const next = await other.backupStart('second backup', true, { archiveCheck: true });
    expect(next.walSegmentCheck).toBeDefined();
    expect(isSegmentName(next.walSegmentCheck!)).toBe(true);
    const stopped = await other.backupStop();
    expect(stopped.backupLabel).toContain('LABEL: second backup\n');
  });

  it('gives a null tablespace_map without tablespaces; a closed session aborts its backup and frees the lock', async () => {
    const plain = await PgCluster.create();
    try {
      await plain.start();
      const client = await PgClient.connect({
        socketPath: plain.socketDir,
        port: plain.port,
        database: 'postgres',
        user: 'postgres',
        timeoutMs: 30_000,
      });
      await client.backupStart('abandoned', true);
      await client.close();
      // PostgreSQL aborted the abandoned backup with its session, and the advisory lock went with it.
      const until = Date.now() + 10_000;
      while (
        !readFileSync(plain.logFile, 'utf8').includes('aborting backup due to backend exiting before pg_backup_stop was called')
      ) {
        if (Date.now() > until) throw new Error('PostgreSQL did not log the aborted backup');
        await sleep(50);
      }
      const again = await PgClient.connect({
        socketPath: plain.socketDir,
        port: plain.port,
        database: 'postgres',
        user: 'postgres',
        timeoutMs: 30_000,
      });
      try {
        await again.backupStart('again', true);
        expect((await again.backupStop()).tablespaceMap).toBeNull();
      } finally {
        await again.close();
      }
    } finally {
      await plain.destroy();
    }
  });

  it('names the socket or host and port when it cannot connect', async () => {
    const port = await freePort();
    const socketError = await PgClient.connect({ ...options(), port }).catch((error: unknown) => error);
    expect(isPgkeepError(socketError, 'DbConnect')).toBe(true);
    expect(socketError).toMatchObject({
      code: 56,
      message: expect.stringMatching(
        new RegExp(
          `^unable to connect to PostgreSQL on socket '${cluster.socketDir}' port ${port} \\(database 'postgres', user 'postgres'\\): .*ENOENT`,
        ),
      ) as unknown,
      hint: expect.stringContaining('pg1-socket-path') as unknown,
    });

    const hostError = await PgClient.connect({ host: '127.0.0.1', port, database: 'postgres', timeoutMs: 5000 }).catch(
      (error: unknown) => error,
    );
    expect(hostError).toMatchObject({
      errorName: 'DbConnect',
      message: expect.stringMatching(
        new RegExp(`^unable to connect to PostgreSQL on host '127.0.0.1' port ${port} \\(database 'postgres'\\): .*ECONNREFUSED`),
      ) as unknown,
      hint: expect.stringContaining('host and port') as unknown,
    });

    const databaseError = await PgClient.connect({ ...options(), database: 'no_such_db' }).catch((error: unknown) => error);
    expect(databaseError).toMatchObject({
      errorName: 'DbConnect',
      message: expect.stringContaining('database "no_such_db" does not exist (SQLSTATE 3D000)') as unknown,
    });
  });

  it('reports a failed query with its purpose, a lost session, and a query that outlasts the timeout', async () => {
    const client = await connect();
    const notStarted = await client.backupStop().catch((error: unknown) => error);
    expect(notStarted).toMatchObject({
      errorName: 'DbQuery',
      code: 57,
      message: expect.stringMatching(
        new RegExp(`^unable to stop the backup on socket '${cluster.socketDir}' port ${cluster.port}: .*\\(SQLSTATE 55000\\)$`),
      ) as unknown,
    });

    const doomed = await connect({ applicationName: 'pgkeep-doomed' });
    await cluster.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgkeep-doomed'");
    await sleep(200);
    await expect(doomed.isInRecovery()).rejects.toMatchObject({
      errorName: 'DbQuery',
      message: expect.stringContaining('unable to check whether the cluster is in recovery') as unknown,
    });

    // A spread (not fast) backup start checkpoint on a cluster with many dirty pages takes minutes.
    await cluster.query('ALTER SYSTEM SET checkpoint_timeout = 3600');
    await cluster.query('SELECT pg_reload_conf()');
    await cluster.pgbench(['-i', '-s', '5', '-q']);
    const slow = await connect({ timeoutMs: 1500 });
    const timedOut = await slow.backupStart(undefined, false).catch((error: unknown) => error);
    expect(timedOut).toMatchObject({
      errorName: 'DbQuery',
      message: expect.stringContaining('unable to start the backup') as unknown,
      hint: expect.stringContaining('db-timeout (1.5s)') as unknown,
    });
    await slow.close();
    await cluster.query('ALTER SYSTEM RESET checkpoint_timeout');
    await cluster.query('SELECT pg_reload_conf()');
  });
});
