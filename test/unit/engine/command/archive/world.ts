import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseCommandLine } from '../../../../../engine/config/command-line.js';
import type { CommandName } from '../../../../../engine/config/command-table.js';
import type { Config } from '../../../../../engine/config/config.js';
import { resolveConfig } from '../../../../../engine/config/resolve.js';
import { newArchiveInfo, saveArchiveInfo } from '../../../../../engine/repo/info/archive-info.js';
import { PosixStorage } from '../../../../../engine/storage/posix/posix-storage.js';
import { pg15ControlData, pg15ControlHex, pg15WalHeaderHex } from '../../postgres/fixtures.js';

/** Size of the test segments: a real header (which says 16 MiB) on a small file, which is all a push reads. */
export const SEGMENT_BYTES = 256 * 1024;

/**
 * A little world for archive tests on the real file system: a "data directory" with the
 * pg_control of a real PostgreSQL 15 cluster and a pg_wal of segments with that cluster's WAL
 * header, a repository with the stanza, a spool, a lock path, a log path and a configuration
 * file in pgBackRest's format.
 */
export class ArchiveWorld {
  readonly root = mkdtempSync(join(tmpdir(), 'pgkeep-archive-unit-'));
  readonly dataDir = join(this.root, 'data');
  readonly walDir = join(this.dataDir, 'pg_wal');
  readonly statusDir = join(this.walDir, 'archive_status');
  readonly repoPath = join(this.root, 'repo');
  readonly spoolPath = join(this.root, 'spool');
  readonly lockPath = join(this.root, 'lock');
  readonly logPath = join(this.root, 'log');
  readonly configPath = join(this.root, 'pgbackrest.conf');
  readonly outDir = join(this.spoolPath, 'archive', 'main', 'out');
  readonly inDir = join(this.spoolPath, 'archive', 'main', 'in');
  readonly systemId = BigInt(pg15ControlData.systemId);

  constructor(global: Record<string, string | number> = {}) {
    mkdirSync(join(this.dataDir, 'global'), { recursive: true });
    writeFileSync(join(this.dataDir, 'global', 'pg_control'), Buffer.from(pg15ControlHex.padEnd(8192 * 2, '0'), 'hex'));
    mkdirSync(this.statusDir, { recursive: true });
    for (const dir of [this.repoPath, this.spoolPath, this.lockPath, this.logPath]) mkdirSync(dir, { recursive: true });
    this.writeConfig(global);
  }

  writeConfig(global: Record<string, string | number> = {}): void {
    const lines = [
      '[global]',
      `repo1-path=${this.repoPath}`,
      `lock-path=${this.lockPath}`,
      `log-path=${this.logPath}`,
      `spool-path=${this.spoolPath}`,
      ...Object.entries({ 'compress-type': 'lz4', 'archive-async': 'y', ...global }).map(([key, value]) => `${key}=${value}`),
      '',
      '[main]',
      `pg1-path=${this.dataDir}`,
      '',
    ];
    writeFileSync(this.configPath, lines.join('\n'));
  }

  /** The stanza's archive.info in the repository (this cluster's, or another system id). */
  async createStanza(systemId = this.systemId): Promise<void> {
    const storage = new PosixStorage({ basePath: this.repoPath });
    await saveArchiveInfo(storage, 'archive/main/archive.info', newArchiveInfo(systemId, '15'));
  }

  /** A segment in pg_wal with this cluster's header and content derived from `seed`; returns its SHA-1. */
  segment(name: string, seed = name, options: { ready?: boolean } = {}): string {
    const data = Buffer.alloc(SEGMENT_BYTES);
    Buffer.from(pg15WalHeaderHex, 'hex').copy(data);
    const pattern = createHash('sha256').update(seed).digest();
    for (let at = 64; at < data.length; at += 4096) pattern.copy(data, at);
    writeFileSync(join(this.walDir, name), data);
    if (options.ready ?? true) this.ready(name);
    return createHash('sha1').update(data).digest('hex');
  }

  ready(name: string): void {
    writeFileSync(join(this.statusDir, `${name}.ready`), '');
  }

  /** The resolved configuration of a command run with these arguments (the configuration file given). */
  config(command: CommandName, args: readonly string[] = [], env: Record<string, string> = {}): Config {
    return resolveConfig({
      command,
      commandLine: parseCommandLine([`--config=${this.configPath}`, '--stanza=main', command, ...args]),
      env,
    });
  }

  destroy(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export const SEGMENTS = [
  '000000010000000000000001',
  '000000010000000000000002',
  '000000010000000000000003',
  '000000010000000000000004',
  '000000010000000000000005',
] as const;
