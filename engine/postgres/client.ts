import pg from 'pg';

import { PgkeepError, toPgkeepError } from '../error/pgkeep-error.js';
import { log } from '../log/logger.js';
import { timelineOfSegmentName } from './wal.js';
import { pgVersionByNum, type PgVersionFacts } from './version-table.js';

/**
 * The SQL pgkeep runs against a cluster, on one session (a non-exclusive backup must start and
 * stop on the same connection). The queries are those of pgBackRest 2.45 (src/db/db.c), so a
 * cluster set up for pgBackRest needs no new grants for pgkeep.
 */

export interface PgConnectOptions {
  /** Directory of the Unix socket (pg1-socket-path). Takes precedence over host. */
  readonly socketPath?: string | undefined;
  /** TCP host, when there is no socket path. Neither: libpq's default socket directory, /var/run/postgresql. */
  readonly host?: string | undefined;
  /** pg1-port. */
  readonly port: number;
  /** pg1-user; default: the OS user, as libpq. */
  readonly user?: string | undefined;
  /** pg1-database. */
  readonly database: string;
  /** db-timeout: limit for connecting and for each query. */
  readonly timeoutMs: number;
  /** Shown in pg_stat_activity (default 'pgkeep'). */
  readonly applicationName?: string;
  /** The configuration's name for this cluster, which hints name options by (default 'pg1'). */
  readonly configName?: string;
}

export interface PgTablespace {
  readonly oid: number;
  readonly name: string;
  /** Directory of the tablespace; null for the built-in pg_default and pg_global. */
  readonly location: string | null;
}

export interface PgDatabase {
  readonly name: string;
  readonly oid: number;
  /**
   * The manifest's `db-last-system-id`. pg_database.datlastsysoid is gone in 15; pgBackRest 2.45
   * fills it for every version with the oid of template0, and so does pgkeep.
   */
  readonly lastSystemId: number;
}

export interface BackupStartResult {
  /** Backup start LSN as PostgreSQL writes it ('0/3000028'): the manifest's backup-lsn-start. */
  readonly lsn: string;
  /** The segment holding the start LSN: backup-archive-start. */
  readonly walSegmentName: string;
  readonly timeline: number;
  /** With archiveCheck: the segment being written just before the backup started. */
  readonly walSegmentCheck?: string;
}

export interface BackupStopResult {
  /** Backup stop LSN: backup-lsn-stop. */
  readonly lsn: string;
  /** The segment holding the stop LSN: backup-archive-stop. */
  readonly walSegmentName: string;
  /** The backup_label the backup must contain. */
  readonly backupLabel: string;
  /** The tablespace_map the backup must contain; null when the cluster has no tablespaces. */
  readonly tablespaceMap: string | null;
}

/** pgBackRest's advisory lock key: taking the same one keeps a pgkeep and a pgBackRest backup of one cluster apart. */
export const BACKUP_ADVISORY_LOCK = '12340078987004321';

const DEFAULT_SOCKET_PATH = '/var/run/postgresql';

export class PgClient {
  private broken: Error | undefined;

  private constructor(
    private readonly client: pg.Client,
    /** Where the connection goes, for messages: "socket '/run/postgresql' port 5432". */
    readonly target: string,
    private readonly timeoutMs: number,
    /** server_version_num at connect time (150018). */
    readonly serverVersionNum: number,
    /** Facts of the server's major version. */
    readonly versionFacts: PgVersionFacts,
  ) {
    client.on('error', (error: Error) => {
      // A connection lost between queries: the next query reports it.
      this.broken = error;
    });
  }

  static async connect(options: PgConnectOptions): Promise<PgClient> {
    const host = options.socketPath ?? options.host ?? DEFAULT_SOCKET_PATH;
    const target = `${host.startsWith('/') ? 'socket' : 'host'} '${host}' port ${options.port}`;
    const client = new pg.Client({
      host,
      port: options.port,
      user: options.user,
      database: options.database,
      application_name: options.applicationName ?? 'pgkeep',
      connectionTimeoutMillis: options.timeoutMs,
      query_timeout: options.timeoutMs,
    });
    // Errors after a failed connect arrive as events too: without a listener they would crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      const who = `database '${options.database}'${options.user === undefined ? '' : `, user '${options.user}'`}`;
      const pgN = options.configName ?? 'pg1';
      throw new PgkeepError('DbConnect', `unable to connect to PostgreSQL on ${target} (${who}): ${pgErrorText(error)}`, {
        hint:
          options.socketPath === undefined && options.host !== undefined
            ? `is PostgreSQL running and listening on that host and port? check the host, ${pgN}-port, ${pgN}-user and ${pgN}-database`
            : `is PostgreSQL running? check ${pgN}-socket-path (the directory of the socket) and ${pgN}-port, then ${pgN}-user and ${pgN}-database`,
        cause: error,
      });
    }

    let versionNum: number;
    let facts: PgVersionFacts;
    try {
      // Schema-qualified calls plus a fixed search_path: nothing in the database can stand in for
      // the functions pgkeep calls. No parallel workers: a backup session must not use any.
      await run(client, target, 'set up the session', "set search_path = 'pg_catalog'", [], options.timeoutMs);
      await run(client, target, 'set up the session', "set client_encoding = 'UTF8'", [], options.timeoutMs);
      await run(client, target, 'set up the session', 'set max_parallel_workers_per_gather = 0', [], options.timeoutMs);
      const rows = await run(
        client,
        target,
        'read the server version',
        "select pg_catalog.current_setting('server_version_num')::int4 as num",
        [],
        options.timeoutMs,
      );
      versionNum = Number(rows[0]!['num']);
      facts = supportedVersion(versionNum, target);
    } catch (error) {
      // Not covered by the tests: it takes a server of a version pgkeep does not support.
      await client.end().catch(() => undefined);
      throw error;
    }
    log.debug(`connected to PostgreSQL ${facts.version} (${versionNum}) on ${target}`);
    return new PgClient(client, target, options.timeoutMs, versionNum, facts);
  }

  /** Ends the session; a backup still started is then aborted by PostgreSQL. */
  async close(): Promise<void> {
    // end() rejects when the connection already broke: closing is then done.
    await this.client.end().catch(() => undefined);
  }

  private async query(purpose: string, sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
    if (this.broken !== undefined) {
      throw new PgkeepError(
        'DbQuery',
        `unable to ${purpose} on ${this.target}: the connection was lost: ${this.broken.message}`,
        {
          hint: 'is PostgreSQL still running? the session (and any backup it started) has ended',
          cause: this.broken,
        },
      );
    }
    return run(this.client, this.target, purpose, sql, values, this.timeoutMs);
  }

  private async value(purpose: string, sql: string, values: unknown[] = []): Promise<unknown> {
    const rows = await this.query(purpose, sql, values);
    return Object.values(rows[0] ?? {})[0];
  }

  /** server_version_num, e.g. 150018. */
  async version(): Promise<number> {
    return Number(await this.value('read the server version', "select pg_catalog.current_setting('server_version_num')::int4"));
  }

  /** A setting from pg_settings; null when there is no such setting, or this user may not see it. */
  async setting(name: string): Promise<string | null> {
    const value = await this.value(`read setting '${name}'`, 'select setting::text from pg_catalog.pg_settings where name = $1', [
      name,
    ]);
    return typeof value === 'string' ? value : null;
  }

  /** A setting that must be readable; null means the user lacks pg_read_all_settings. */
  private async requiredSetting(name: string): Promise<string> {
    const value = await this.setting(name);
    if (value === null) {
      throw new PgkeepError('DbQuery', `unable to read setting '${name}' from pg_settings on ${this.target}`, {
        hint: 'is pgkeep connecting as the postgres user? another user needs the pg_read_all_settings role',
      });
    }
    return value;
  }

  async dataDirectory(): Promise<string> {
    return this.requiredSetting('data_directory');
  }

  async archiveMode(): Promise<string> {
    return this.requiredSetting('archive_mode');
  }

  async archiveCommand(): Promise<string> {
    return this.requiredSetting('archive_command');
  }

  async isInRecovery(): Promise<boolean> {
    return (await this.value('check whether the cluster is in recovery', 'select pg_catalog.pg_is_in_recovery()')) === true;
  }

  /**
   * Closes the current WAL segment so it is archived, and returns its name. A restore point is
   * written first, as pgBackRest does: on an idle cluster that has switched since its last write,
   * pg_switch_wal has nothing to close, and the restore point record gives it something.
   */
  async switchWal(): Promise<string> {
    await this.query(
      'create a restore point before the WAL switch',
      "select pg_catalog.pg_create_restore_point('pgkeep Archive Check')::text",
    );
    return String(
      await this.value('switch the WAL segment', 'select pg_catalog.pg_walfile_name(pg_catalog.pg_switch_wal())::text'),
    );
  }

  async checkpoint(): Promise<void> {
    await this.query('run a checkpoint', 'checkpoint');
  }

  async tablespaces(): Promise<PgTablespace[]> {
    const rows = await this.query(
      'list tablespaces',
      'select oid::oid::text as oid, spcname::text as name, pg_catalog.pg_tablespace_location(oid)::text as location from pg_catalog.pg_tablespace',
    );
    return byOid(rows).map((row) => ({
      oid: Number(row['oid']),
      name: String(row['name']),
      location: row['location'] === '' ? null : String(row['location']),
    }));
  }

  async databases(): Promise<PgDatabase[]> {
    const rows = await this.query(
      'list databases',
      'select oid::oid::text as oid, datname::text as name,' +
        " (select oid::oid::text from pg_catalog.pg_database where datname = 'template0') as last_system_id" +
        ' from pg_catalog.pg_database',
    );
    return byOid(rows).map((row) => ({
      name: String(row['name']),
      oid: Number(row['oid']),
      lastSystemId: Number(row['last_system_id']),
    }));
  }

  /** The database clock, seconds since the epoch with a fraction (labels and times come from it when online). */
  /** pg_stat_archiver: how archiving went (times in epoch seconds). */
  async archiverStats(): Promise<{
    archivedCount: number;
    lastArchivedWal: string | null;
    lastArchivedTime: number | null;
    failedCount: number;
    lastFailedWal: string | null;
    lastFailedTime: number | null;
  }> {
    const [row] = await this.query(
      'read the archiver statistics',
      'select archived_count::text, last_archived_wal, extract(epoch from last_archived_time)::text as last_archived_time,' +
        ' failed_count::text, last_failed_wal, extract(epoch from last_failed_time)::text as last_failed_time from pg_catalog.pg_stat_archiver',
    );
    const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
    return {
      archivedCount: Number(row!['archived_count']),
      lastArchivedWal: (row!['last_archived_wal'] as string | null) ?? null,
      lastArchivedTime: number(row!['last_archived_time']),
      failedCount: Number(row!['failed_count']),
      lastFailedWal: (row!['last_failed_wal'] as string | null) ?? null,
      lastFailedTime: number(row!['last_failed_time']),
    };
  }

  async now(): Promise<number> {
    return Number(await this.value('read the database clock', 'select extract(epoch from pg_catalog.clock_timestamp())::text'));
  }

  /**
   * Starts a non-exclusive backup on this session: pg_backup_start(label, fast) on 15+,
   * pg_start_backup(label, fast, false) on 12-14. `fast` checkpoints at once instead of waiting
   * for the next scheduled checkpoint. The default label is pgBackRest's with pgkeep's name.
   *
   * First takes pgBackRest's backup advisory lock (LockAcquire when another backup holds it). With
   * `archiveCheck`, when the start did not leave the segment that was being written, the WAL is
   * switched so that archiving can be checked before the backup goes on (as pgBackRest does).
   */
  async backupStart(label?: string, fast = false, options: { archiveCheck?: boolean } = {}): Promise<BackupStartResult> {
    const locked = await this.value(
      'take the backup advisory lock',
      `select pg_catalog.pg_try_advisory_lock(${BACKUP_ADVISORY_LOCK})::bool`,
    );
    if (locked !== true) {
      throw new PgkeepError('LockAcquire', `unable to acquire the backup advisory lock on ${this.target}`, {
        hint: 'is another pgkeep or pgBackRest backup already running on this cluster?',
      });
    }
    const walSegmentCheck = options.archiveCheck
      ? String(
          await this.value(
            'read the current WAL segment',
            'select pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_insert_lsn())::text',
          ),
        )
      : undefined;

    const rows = await this.query(
      'start the backup',
      backupStartSql(this.versionFacts, label, fast),
      label === undefined ? [] : [label],
    );
    const lsn = String(rows[0]!['lsn']);
    const walSegmentName = String(rows[0]!['wal_segment_name']);
    if (walSegmentCheck !== undefined && walSegmentCheck === walSegmentName) await this.switchWal();
    return {
      lsn,
      walSegmentName,
      timeline: timelineOfSegmentName(walSegmentName),
      ...(walSegmentCheck === undefined ? {} : { walSegmentCheck }),
    };
  }

  /**
   * Stops the backup started on this session and returns the backup_label and tablespace_map it
   * must contain. PostgreSQL is not asked to wait for the WAL to be archived by default: pgkeep
   * checks the archive itself, with its own timeout (as pgBackRest does).
   */
  async backupStop(options: { waitForArchive?: boolean } = {}): Promise<BackupStopResult> {
    const rows = await this.query('stop the backup', backupStopSql(this.versionFacts, options.waitForArchive === true));
    // The lock taken by backupStart: free it for the next backup even if this session goes on.
    await this.query('release the backup advisory lock', `select pg_catalog.pg_advisory_unlock(${BACKUP_ADVISORY_LOCK})::bool`);
    const row = rows[0]!;
    // Without tablespaces PostgreSQL 15 returns '' (older releases documented NULL): both mean none.
    const tablespaceMap = String(row['tablespace_map'] ?? '');
    return {
      lsn: String(row['lsn']),
      walSegmentName: String(row['wal_segment_name']),
      backupLabel: String(row['backup_label']),
      tablespaceMap: tablespaceMap.trim() === '' ? null : tablespaceMap,
    };
  }
}

/**
 * The backup start query: pg_backup_start(label, fast) on 15+, pg_start_backup(label, fast,
 * exclusive = false) on 12-14. A given label is the query's $1; without one the label is
 * pgBackRest's with pgkeep's name.
 */
export function backupStartSql(facts: PgVersionFacts, label: string | undefined, fast: boolean): string {
  const labelSql = label === undefined ? "'pgkeep backup started at ' || current_timestamp" : '$1::text';
  const args = `${labelSql}, ${fast ? 'true' : 'false'}${facts.backupExclusiveArgument ? ', false' : ''}`;
  return (
    'select lsn::text as lsn, pg_catalog.pg_walfile_name(lsn)::text as wal_segment_name' +
    ` from pg_catalog.${facts.backupStartFunction}(${args}) as lsn`
  );
}

/** The backup stop query: pg_backup_stop(wait_for_archive) on 15+, pg_stop_backup(exclusive = false, wait_for_archive) on 12-14. */
export function backupStopSql(facts: PgVersionFacts, waitForArchive: boolean): string {
  const wait = waitForArchive ? 'true' : 'false';
  const args = facts.backupExclusiveArgument ? `false, ${wait}` : wait;
  return (
    'select lsn::text as lsn, pg_catalog.pg_walfile_name(lsn)::text as wal_segment_name,' +
    ' labelfile::text as backup_label, spcmapfile::text as tablespace_map' +
    ` from pg_catalog.${facts.backupStopFunction}(${args})`
  );
}

async function run(
  client: pg.Client,
  target: string,
  purpose: string,
  sql: string,
  values: unknown[],
  timeoutMs: number,
): Promise<Record<string, unknown>[]> {
  try {
    return (await client.query<Record<string, unknown>>(sql, values)).rows;
  } catch (error) {
    const timedOut = error instanceof Error && error.message === 'Query read timeout';
    throw new PgkeepError('DbQuery', `unable to ${purpose} on ${target}: ${pgErrorText(error)}`, {
      hint: timedOut
        ? `the query took longer than db-timeout (${timeoutMs / 1000}s): raise db-timeout, or see what PostgreSQL is waiting for`
        : undefined,
      cause: error,
    });
  }
}

/** The server's version facts; an unsupported server is named in the error. */
export function supportedVersion(versionNum: number, target: string): PgVersionFacts {
  try {
    return pgVersionByNum(versionNum);
  } catch (error) {
    const cause = toPgkeepError(error);
    throw new PgkeepError('VersionNotSupported', `${cause.message}: the server on ${target}`, { hint: cause.hint, cause: error });
  }
}

function byOid(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.sort((a, b) => Number(a['oid']) - Number(b['oid']));
}

/**
 * pg's message with the SQLSTATE when the server sent one. A connect to a name with several
 * addresses that all fail is an AggregateError with an empty message: its inner errors tell.
 */
export function pgErrorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const sqlState = (error as { code?: unknown }).code;
  const message =
    error.message === '' && error instanceof AggregateError
      ? error.errors.map((inner) => String(inner)).join('; ')
      : error.message;
  return typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState) ? `${message} (SQLSTATE ${sqlState})` : message;
}
