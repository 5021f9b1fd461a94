import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { TestProject } from 'vitest/node';

import { osUser } from './os-user.js';
import { stageCli } from './stage-cli.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the staged, executable pgkeep CLI. */
    pgkeepBin: string;
  }
}

/**
 * Integration tests: stage the built CLI once, give the run one base directory for every temporary
 * file, and at the end stop every server still running from it and remove it all.
 */
export default function setup(project: TestProject): () => void {
  if (process.getuid?.() !== 0) {
    throw new Error('integration tests run PostgreSQL as the postgres user and need root: run them as root (npm test does)');
  }
  const base = mkdtempSync(join(tmpdir(), 'pgkeep-run-'));
  chmodSync(base, 0o755);
  process.env.PGKEEP_TEST_TMP = base; // inherited by the test workers
  const stage = stageCli(join(import.meta.dirname, '..', '..'));
  project.provide('pgkeepBin', join(stage, 'pgkeep'));
  return () => {
    stopServersUnder(base);
    rmSync(base, { recursive: true, force: true });
    rmSync(stage, { recursive: true, force: true });
  };
}

/** Stops PostgreSQL servers whose data directory is under `base` (left by a failed test). */
function stopServersUnder(base: string): void {
  const user = osUser('postgres');
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const dataDir = args[args.indexOf('-D') + 1];
    if (!args[0]?.endsWith('/postgres') || dataDir === undefined || !dataDir.startsWith(base)) continue;
    if (existsSync(join(dataDir, 'postmaster.pid'))) {
      spawnSync('/usr/lib/postgresql/15/bin/pg_ctl', ['-D', dataDir, 'stop', '-m', 'immediate', '-w'], {
        uid: user.uid,
        gid: user.gid,
        cwd: '/',
      });
    }
  }
}
