import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { expect, inject } from 'vitest';

import { osUser } from './os-user.js';
import { PgCluster, type ClusterOptions } from './pg-cluster.js';
import { run, type RunResult } from './run.js';
import { removeDir, tempDir } from './temp-dir.js';

export type Archiver = 'pgkeep' | 'pgbackrest' | 'none';

export interface StanzaOptions {
  /** Which tool PostgreSQL's archive_command runs (default pgkeep). */
  readonly archiver?: Archiver;
  /** Options for the [global] section (compress-type=lz4 ...). */
  readonly global?: Readonly<Record<string, string | number>>;
  readonly cluster?: ClusterOptions;
  /** Start the cluster (default true). */
  readonly start?: boolean;
}

/**
 * A stanza for a test: a real cluster, a repository, and ONE configuration file in pgBackRest's
 * format that both pgkeep and the real pgbackrest read, so either tool can write and the other
 * read the same repository.
 */
export class TestStanza {
  readonly name = 'main';
  readonly root: string;
  readonly repoPath: string;
  readonly lockPath: string;
  readonly configPath: string;

  private constructor(
    readonly cluster: PgCluster,
    root: string,
    private readonly global: Readonly<Record<string, string | number>>,
  ) {
    this.root = root;
    this.repoPath = join(root, 'repo');
    this.lockPath = join(root, 'lock');
    this.configPath = join(root, 'pgbackrest.conf');
  }

  static async create(options: StanzaOptions = {}): Promise<TestStanza> {
    const root = tempDir('stanza');
    const archiver = options.archiver ?? 'pgkeep';
    const configPath = join(root, 'pgbackrest.conf');
    const archiveCommand =
      archiver === 'pgkeep'
        ? `${pgkeepBin()} --config=${configPath} --stanza=main archive-push %p`
        : archiver === 'pgbackrest'
          ? `pgbackrest --config=${configPath} --stanza=main archive-push %p`
          : undefined;
    const cluster = await PgCluster.create({ ...options.cluster, ...(archiveCommand === undefined ? {} : { archiveCommand }) });
    const stanza = new TestStanza(cluster, root, { 'compress-type': 'lz4', ...options.global });
    for (const dir of [stanza.repoPath, stanza.lockPath, join(root, 'log'), join(root, 'spool')]) mkdirAsPostgres(dir);
    stanza.writeConfig();
    if (options.start ?? true) await cluster.start();
    return stanza;
  }

  /**
   * A stanza created by the tool its archive_command runs, on a cluster holding pgbench's tables at
   * this scale: where most backup and restore tests start. A failure on the way removes it again.
   */
  static async withPgbench(scale: number, options: StanzaOptions = {}): Promise<TestStanza> {
    const stanza = await TestStanza.create(options);
    try {
      await (options.archiver === 'pgbackrest' ? stanza.pgbackrest(['stanza-create']) : stanza.pgkeep(['stanza-create']));
      await stanza.cluster.pgbench(['-i', '-s', String(scale), '-q']);
      return stanza;
    } catch (error) {
      await stanza.destroy();
      throw error;
    }
  }

  /** Rewrites the configuration file, e.g. with other [global] options, or for another cluster (an upgrade). */
  writeConfig(
    global: Readonly<Record<string, string | number>> = this.global,
    stanzaOptions: Readonly<Record<string, string | number>> = {},
    cluster: PgCluster = this.cluster,
  ): void {
    const lines = [
      '[global]',
      `repo1-path=${this.repoPath}`,
      `lock-path=${this.lockPath}`,
      `log-path=${join(this.root, 'log')}`,
      `spool-path=${join(this.root, 'spool')}`,
      'log-level-file=detail',
      'start-fast=y',
      ...Object.entries(global).map(([key, value]) => `${key}=${value}`),
      '',
      `[${this.name}]`,
      `pg1-path=${cluster.dataDir}`,
      `pg1-socket-path=${cluster.socketDir}`,
      `pg1-port=${cluster.port}`,
      ...Object.entries(stanzaOptions).map(([key, value]) => `${key}=${value}`),
      '',
    ];
    writeFileSync(this.configPath, lines.join('\n'), { mode: 0o644 });
  }

  /** Runs pgkeep as the postgres user, as PostgreSQL and a DBA's cron job would. */
  pgkeep(args: readonly string[], options: { check?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return run(pgkeepBin(), [`--config=${this.configPath}`, `--stanza=${this.name}`, ...args], {
      user: 'postgres',
      cwd: this.root,
      check: options.check ?? true,
      env: { PATH: process.env.PATH, ...options.env },
    });
  }

  /** Runs the real pgbackrest 2.45 as the postgres user on the same configuration. */
  pgbackrest(args: readonly string[], options: { check?: boolean } = {}): Promise<RunResult> {
    const quiet = args.some((arg) => arg.startsWith('--log-level-console')) ? [] : ['--log-level-console=warn'];
    return run('pgbackrest', [`--config=${this.configPath}`, `--stanza=${this.name}`, ...quiet, ...args], {
      user: 'postgres',
      cwd: this.root,
      check: options.check ?? true,
      env: { PATH: process.env.PATH },
    });
  }

  /**
   * Runs pgkeep (info lines on its console), then the real pgbackrest, with the same arguments:
   * both must exit with `code`. Returns pgkeep's output, standard output then standard error.
   */
  async bothExit(code: number, args: readonly string[]): Promise<string> {
    const ours = await this.pgkeep(['--log-level-console=info', ...args], { check: false });
    const theirs = await this.pgbackrest(args, { check: false });
    expect({ ours: ours.code, theirs: theirs.code }).toEqual({ ours: code, theirs: code });
    return ours.stdout + ours.stderr;
  }

  async destroy(): Promise<void> {
    await this.cluster.destroy();
    removeDir(this.root);
  }
}

export function pgkeepBin(): string {
  return inject('pgkeepBin');
}

function mkdirAsPostgres(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o750 });
  const user = osUser('postgres');
  if (process.getuid?.() === 0) chownSync(path, user.uid, user.gid);
}
