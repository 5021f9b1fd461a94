import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { parseCommandLine } from '../../../../../engine/config/command-line.js';
import type { Config } from '../../../../../engine/config/config.js';
import { resolveConfig } from '../../../../../engine/config/resolve.js';
import { saveArchiveInfo } from '../../../../../engine/repo/info/archive-info.js';
import { saveBackupInfo, type BackupInfoEntry } from '../../../../../engine/repo/info/backup-info.js';
import { PosixStorage } from '../../../../../engine/storage/posix/posix-storage.js';
import { archiveInfo, backupInfo, type PgVersion } from './fixtures.js';

export interface DiskRepoContent {
  readonly backups: BackupInfoEntry[];
  readonly history?: readonly PgVersion[];
  /** archive id -> stored names (segments go into their 16-character directory, .history files at the top). */
  readonly archive?: Readonly<Record<string, readonly string[]>>;
  /** year -> history manifest names. */
  readonly historyManifests?: Readonly<Record<string, readonly string[]>>;
}

/** A repository on disk for the expire command: info files, backup directories with (dummy) manifests, WAL names. */
export class DiskRepo {
  readonly root = mkdtempSync(join(tmpdir(), 'pgkeep-expire-'));
  readonly storage = new PosixStorage({ basePath: this.root });

  static async create(content: DiskRepoContent): Promise<DiskRepo> {
    const repo = new DiskRepo();
    await saveBackupInfo(repo.storage, 'backup/main/backup.info', backupInfo(content.backups, content.history));
    await saveArchiveInfo(repo.storage, 'archive/main/archive.info', archiveInfo(content.history));
    for (const { label } of content.backups) {
      for (const name of ['backup.manifest', 'backup.manifest.copy', 'pg_data/PG_VERSION.lz4'])
        repo.write(`backup/main/${label}/${name}`, 'x');
    }
    for (const [archiveId, names] of Object.entries(content.archive ?? {})) {
      for (const name of names)
        repo.write(`archive/main/${archiveId}/${name.endsWith('.history') ? '' : `${name.slice(0, 16)}/`}${name}`, '');
    }
    for (const [year, names] of Object.entries(content.historyManifests ?? {}))
      for (const name of names) repo.write(`backup/main/backup.history/${year}/${name}`, 'gz');
    return repo;
  }

  path(relative: string): string {
    return join(this.root, relative);
  }

  write(relative: string, data: string | Buffer): void {
    mkdirSync(dirname(this.path(relative)), { recursive: true });
    writeFileSync(this.path(relative), data);
  }

  read(relative: string): string {
    return readFileSync(this.path(relative), 'utf8');
  }

  /** Every path under the repository with its modification time: anything written shows. */
  snapshot(): Map<string, number> {
    const entries = new Map<string, number>();
    const walk = (relative: string) => {
      for (const name of readdirSync(this.path(relative)).sort()) {
        const path = relative === '' ? name : `${relative}/${name}`;
        const stats = statSync(this.path(path));
        entries.set(path, stats.mtimeMs);
        if (stats.isDirectory()) walk(path);
      }
    };
    walk('');
    return entries;
  }

  /** Relative paths of everything under `relative`. */
  list(relative: string): string[] {
    return [...this.snapshot().keys()]
      .filter((path) => path.startsWith(`${relative}/`))
      .map((path) => path.slice(relative.length + 1));
  }

  destroy(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A configuration file (in a directory of its own, with the lock path) naming the repositories repo1, repo2...; returns its path. */
export function writeConfig(repos: readonly DiskRepo[], global: Readonly<Record<string, string | number>> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-expire-conf-'));
  const lines = [
    '[global]',
    ...repos.map((repo, index) => `repo${index + 1}-path=${repo.root}`),
    `lock-path=${join(dir, 'lock')}`,
    'log-level-file=off',
    ...Object.entries(global).map(([key, value]) => `${key}=${value}`),
    '',
    '[main]',
    'pg1-path=/nonexistent',
    '',
  ];
  const path = join(dir, 'pgbackrest.conf');
  writeFileSync(path, lines.join('\n'));
  return path;
}

/** The expire command's configuration from a file and arguments. */
export function expireConfig(configPath: string, args: readonly string[] = []): Config {
  return resolveConfig({
    command: 'expire',
    commandLine: parseCommandLine([`--config=${configPath}`, '--stanza=main', ...args, 'expire']),
    env: {},
  });
}
