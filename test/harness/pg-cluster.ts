import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import pg from 'pg';

import { onExitStop } from './cleanup.js';
import { osUser } from './os-user.js';
import { freePort } from './ports.js';
import { run, type RunResult } from './run.js';
import { removeDir, tempDir } from './temp-dir.js';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface ClusterOptions {
  /** archive_mode=on with this archive_command. */
  readonly archiveCommand?: string;
  /** Extra postgresql.conf settings. */
  readonly settings?: Readonly<Record<string, string | number>>;
  /** A cluster of its own (own system identifier) instead of a copy of the shared template. */
  readonly fresh?: boolean;
}

const running = new Map<PgCluster, () => void>();

/**
 * A real PostgreSQL 15 cluster for a test, run as the `postgres` OS user in a temporary
 * directory on a free port, with data checksums. Clusters are copies of one initdb'd template
 * (same system identifier) unless `fresh`. Every cluster still running when the process exits is
 * stopped immediately, so a failing test leaves no server behind.
 */
export class PgCluster {
  private constructor(
    /** Temporary root: data directory, socket directory, log, tablespaces. */
    readonly root: string,
    readonly dataDir: string,
    readonly socketDir: string,
    readonly port: number,
    readonly logFile: string,
  ) {}

  static async create(options: ClusterOptions = {}): Promise<PgCluster> {
    const root = tempDir('pg');
    const dataDir = join(root, 'data');
    const socketDir = join(root, 'socket');
    mkdirAs(socketDir);
    if (options.fresh) await initdb(dataDir);
    else {
      cpSync(await templateDir(), dataDir, { recursive: true, preserveTimestamps: true });
      chownTree(dataDir);
    }
    const port = await freePort();
    const cluster = new PgCluster(root, dataDir, socketDir, port, join(root, 'postgresql.log'));
    cluster.configure({
      listen_addresses: "'127.0.0.1'",
      port,
      unix_socket_directories: `'${socketDir}'`,
      fsync: 'off',
      max_wal_senders: 2,
      wal_level: 'replica',
      ...(options.archiveCommand === undefined ? {} : { archive_mode: 'on', archive_command: quote(options.archiveCommand) }),
      ...options.settings,
    });
    return cluster;
  }

  /**
   * A cluster for a data directory restored by a test (pgkeep or pgbackrest restore wrote it): it
   * gets its own port and socket directory, and archiving off so it never writes into the
   * repository it came from. `dataDir` must be owned by postgres.
   */
  static async adopt(dataDir: string, settings: Readonly<Record<string, string | number>> = {}): Promise<PgCluster> {
    const root = tempDir('pg-restored');
    const socketDir = join(root, 'socket');
    mkdirAs(socketDir);
    const port = await freePort();
    const cluster = new PgCluster(root, dataDir, socketDir, port, join(root, 'postgresql.log'));
    cluster.configure({
      listen_addresses: "'127.0.0.1'",
      port,
      unix_socket_directories: `'${socketDir}'`,
      archive_mode: 'off',
      ...settings,
    });
    return cluster;
  }

  /** Appends settings to postgresql.conf (a later line wins). */
  configure(settings: Readonly<Record<string, string | number>>): void {
    const lines = Object.entries(settings).map(([key, value]) => `${key} = ${value}\n`);
    appendFileSync(join(this.dataDir, 'postgresql.conf'), lines.join(''));
  }

  async start(): Promise<void> {
    await this.pgCtl(['start', '-w', '-t', '60', '-l', this.logFile]);
    running.set(
      this,
      onExitStop(() => stopNow(this.dataDir)),
    );
  }

  /**
   * Waits until archive recovery has ended (pg_is_in_recovery() is false). A restored cluster
   * accepts read-only connections as soon as it is consistent, long before it has replayed
   * the archive, so tests compare data only after this.
   */
  async waitForRecoveryEnd(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.value('SELECT pg_is_in_recovery()')) === true) {
      if (Date.now() > deadline)
        throw new Error(`recovery of ${this.dataDir} did not end within ${timeoutMs} ms; see ${this.logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!running.has(this)) return;
    await this.pgCtl(['stop', '-w', '-m', mode]);
    running.get(this)?.();
    running.delete(this);
  }

  get isRunning(): boolean {
    return running.has(this);
  }

  /** Stops the server and removes every file of the cluster. */
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    removeDir(this.root);
  }

  connectionConfig(database = 'postgres'): pg.ClientConfig {
    return { host: this.socketDir, port: this.port, user: 'postgres', database };
  }

  /** Runs SQL and returns the rows. */
  async query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    database = 'postgres',
  ): Promise<T[]> {
    const client = new pg.Client(this.connectionConfig(database));
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** The single value of a one-row, one-column query. */
  async value(sql: string, params: unknown[] = [], database = 'postgres'): Promise<unknown> {
    const rows = await this.query(sql, params, database);
    return Object.values(rows[0] ?? {})[0];
  }

  /** Runs pgbench against the cluster (e.g. ['-i', '-s', '10'] or ['-T', '5', '-c', '2']). */
  pgbench(args: readonly string[], database = 'postgres'): Promise<RunResult> {
    return run(join(PG_BIN, 'pgbench'), ['-h', this.socketDir, '-p', String(this.port), ...args, database], {
      user: 'postgres',
      cwd: this.root,
    });
  }

  /** Creates a tablespace in a directory of its own outside the data directory. */
  async createTablespace(name: string): Promise<string> {
    const location = join(this.root, `ts-${name}`);
    mkdirAs(location);
    await this.query(`CREATE TABLESPACE ${name} LOCATION '${location}'`);
    return location;
  }

  private pgCtl(args: readonly string[]): Promise<RunResult> {
    return run(join(PG_BIN, 'pg_ctl'), ['-D', this.dataDir, ...args], { user: 'postgres', cwd: this.root });
  }
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

async function initdb(dataDir: string): Promise<void> {
  await run(
    join(PG_BIN, 'initdb'),
    ['--no-sync', '-k', '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '-D', dataDir],
    {
      user: 'postgres',
      cwd: join(dataDir, '..'),
    },
  );
}

let template: Promise<string> | undefined;

/** One initdb per test process; each cluster copies it (a tenth of the time of initdb). */
function templateDir(): Promise<string> {
  template ??= (async () => {
    const root = tempDir('pg-template');
    const dataDir = join(root, 'data');
    await initdb(dataDir);
    return dataDir;
  })();
  return template;
}

function mkdirAs(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) {
    const user = osUser('postgres');
    chownSync(path, user.uid, user.gid);
  }
}

function chownTree(path: string): void {
  if (process.getuid?.() !== 0) return;
  const user = osUser('postgres');
  spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, path]);
}

/** Synchronous immediate stop, for the exit handler. */
function stopNow(dataDir: string): void {
  if (!existsSync(dataDir)) return;
  const user = osUser('postgres');
  spawnSync(join(PG_BIN, 'pg_ctl'), ['-D', dataDir, 'stop', '-m', 'immediate', '-w'], {
    uid: user.uid,
    gid: user.gid,
    cwd: '/tmp',
  });
}
