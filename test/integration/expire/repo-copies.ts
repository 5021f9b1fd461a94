import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { osUser } from '../../harness/os-user.js';
import { run, type RunResult } from '../../harness/run.js';
import { pgkeepBin, type TestStanza } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';

/**
 * Helpers of the expire oracle tests: copies of one repository, each with its own configuration,
 * expired by pgbackrest on one and by pgkeep on the other, and ways to compare the results.
 */

export interface RepoCopy {
  readonly dir: string;
  /** repoN paths, 1-based. */
  readonly repoPaths: readonly string[];
  readonly configPath: string;
}

function chownPostgres(path: string): void {
  const user = osUser('postgres');
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, path]);
}

/**
 * Copies the repository (cp -a) `repos` times into a new directory with a configuration naming the
 * copies repo1, repo2...: `global` goes to [global] (with `repoN-` keys as given).
 */
export function copyRepo(
  stanza: TestStanza,
  source: string,
  label: string,
  global: Readonly<Record<string, string | number>> = {},
  repos = 1,
): RepoCopy {
  const dir = tempDir(`expire-${label}`);
  const repoPaths: string[] = [];
  for (let index = 1; index <= repos; index++) {
    const path = join(dir, `repo${index}`);
    execFileSync('cp', ['-a', source, path]);
    repoPaths.push(path);
  }
  for (const sub of ['lock', 'log']) mkdirSync(join(dir, sub));
  const configPath = join(dir, 'pgbackrest.conf');
  const lines = [
    '[global]',
    ...repoPaths.map((path, index) => `repo${index + 1}-path=${path}`),
    `lock-path=${join(dir, 'lock')}`,
    `log-path=${join(dir, 'log')}`,
    'log-level-file=off',
    'compress-type=lz4',
    ...Object.entries(global).map(([key, value]) => `${key}=${value}`),
    '',
    `[${stanza.name}]`,
    `pg1-path=${stanza.cluster.dataDir}`,
    `pg1-socket-path=${stanza.cluster.socketDir}`,
    `pg1-port=${stanza.cluster.port}`,
    '',
  ];
  writeFileSync(configPath, lines.join('\n'), { mode: 0o644 });
  chownPostgres(dir);
  return { dir, repoPaths, configPath };
}

export function pgbackrestOn(copy: RepoCopy, args: readonly string[], check = true): Promise<RunResult> {
  return run('pgbackrest', [`--config=${copy.configPath}`, '--stanza=main', '--log-level-stderr=off', ...args], {
    user: 'postgres',
    cwd: copy.dir,
    check,
    env: { PATH: process.env.PATH },
    timeoutMs: 120_000,
  });
}

export function pgkeepOn(copy: RepoCopy, args: readonly string[], check = true): Promise<RunResult> {
  return run(pgkeepBin(), [`--config=${copy.configPath}`, '--stanza=main', '--log-level-stderr=off', ...args], {
    user: 'postgres',
    cwd: copy.dir,
    check,
    env: { PATH: process.env.PATH },
    timeoutMs: 120_000,
  });
}

/** Every entry under `root`: relative path -> type, size and link target (what must match after expire). */
export function tree(root: string): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (relative: string) => {
    for (const name of readdirSync(join(root, relative)).sort()) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const stats = lstatSync(join(root, path));
      if (stats.isSymbolicLink()) entries.set(path, `link -> ${readlinkSync(join(root, path))}`);
      else if (stats.isDirectory()) {
        entries.set(path, 'dir');
        walk(path);
      } else entries.set(path, `file ${stats.size}`);
    }
  };
  walk('');
  return entries;
}

/** The tree with modification times and inodes: anything written shows. */
export function snapshot(root: string): Map<string, string> {
  const entries = tree(root);
  for (const path of entries.keys()) {
    const stats = lstatSync(join(root, path));
    entries.set(path, `${entries.get(path)!} ${stats.ino} ${stats.mtimeMs}`);
  }
  return entries;
}

export function readText(root: string, path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

/**
 * The log lines of a run without their timestamps, minus the command begin/end lines, with the
 * repository paths replaced (they differ between the copies).
 */
export function logLines(result: RunResult, copy: RepoCopy): string[] {
  let text = result.stdout;
  copy.repoPaths.forEach((path, index) => (text = text.split(path).join(`<repo${index + 1}>`)));
  return text
    .split('\n')
    .map((line) => line.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} /, ''))
    .filter((line) => line !== '' && !/ command (begin|end)/.test(line));
}
