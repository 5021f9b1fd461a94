import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Directory trees for the manifest build tests. A spec maps relative paths to content: a string
 * is a file, `{ dir: mode }` a directory, `{ link: destination }` a symbolic link. Parents are
 * created as needed; every file gets the same mtime so results are predictable.
 */
export type TreeSpec = Record<string, string | { dir: number } | { link: string }>;

export const MTIME = 1_700_000_000;

const made: string[] = [];

export function scratch(label: string): string {
  const path = mkdtempSync(join(tmpdir(), `pgkeep-manifest-${label}-`));
  made.push(path);
  return path;
}

export function removeScratch(): void {
  for (const path of made.splice(0)) rmSync(path, { recursive: true, force: true });
}

export function makeTree(root: string, spec: TreeSpec): void {
  for (const [path, entry] of Object.entries(spec)) {
    const absolute = join(root, path);
    mkdirSync(dirname(absolute), { recursive: true, mode: 0o700 });
    if (typeof entry === 'string') {
      writeFileSync(absolute, entry, { mode: 0o600 });
      utimesSync(absolute, MTIME, MTIME);
    } else if ('dir' in entry) {
      mkdirSync(absolute, { recursive: true });
      chmodSync(absolute, entry.dir);
    } else {
      symlinkSync(entry.link, absolute);
    }
  }
}

/** A minimal PostgreSQL 15 data directory (mode 0700) with one database. */
export function dataDirectory(extra: TreeSpec = {}): string {
  const root = join(scratch('pgdata'), 'data');
  mkdirSync(root, { mode: 0o700 });
  chmodSync(root, 0o700);
  makeTree(root, {
    PG_VERSION: '15\n',
    'global/pg_control': 'c'.repeat(8192),
    'global/1262': '',
    'base/5/PG_VERSION': '15\n',
    'base/5/1259': 'r'.repeat(8192),
    pg_tblspc: { dir: 0o700 },
    'pg_wal/000000010000000000000001': 'w',
    'pg_wal/archive_status/000000010000000000000001.done': '',
    ...extra,
  });
  return root;
}
