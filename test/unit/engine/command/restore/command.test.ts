import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { setWorkerSpawner } from '../../../../../engine/command/common/workers.js';
import type { RestorePlanJson } from '../../../../../engine/command/restore/plan-json.js';
import { planRestore } from '../../../../../engine/command/restore/plan.js';
import { handler } from '../../../../../engine/command/restore/restore-file.js';
import { runCommand } from '../../../../../engine/command/run.js';
import { inProcessWorker } from '../../../../../engine/exec/in-process.js';
import { IN_PROCESS, TestRepo, UID } from './fixture.js';

/**
 * `pgkeep restore` as the CLI runs it: configuration, plan, dry-run output, execution, exit codes.
 * Workers run in this process (the CLI's forked workers are exercised by the integration tests).
 */
describe('pgkeep restore', () => {
  let repo: TestRepo;
  let config: string;
  const out: string[] = [];
  const logged: string[] = [];
  const restore = (args: string[]) =>
    runCommand([`--config=${config}`, '--stanza=main', '--log-level-console=info', ...args, 'restore'], {
      out: (text) => out.push(text),
      sink: { stdout: (text) => logged.push(text), stderr: (text) => logged.push(text) },
      uid: 1000,
      env: {},
    });

  // Each test file has its own module instances: replacing the spawner here affects no other file.
  beforeAll(() => setWorkerSpawner(inProcessWorker({ 'restore-file': handler as never })));

  beforeEach(async () => {
    repo = await new TestRepo().init();
    await repo.backup({
      label: '20261121-040000F',
      files: { 'pg_data/base/1/1': 'one', 'pg_data/base/1/2': 'two '.repeat(100) },
    });
    config = join(repo.root, 'pgbackrest.conf');
    const spool = repo.dir('spool/archive/main');
    writeFileSync(join(spool, '000000010000000000000001.ok'), '');
    writeFileSync(
      config,
      `[global]\nrepo1-path=${repo.repoPath}\nlog-path=${repo.dir('log')}\nlock-path=${repo.dir('lock')}\nspool-path=${join(repo.root, 'spool')}\n\n[main]\npg1-path=${join(repo.root, 'data')}\n`,
    );
    out.length = 0;
    logged.length = 0;
  });
  afterEach(() => repo.remove());

  it('--dry-run prints the plan and writes nothing; the restore then does it', async () => {
    const target = repo.dir('data');
    expect(await restore(['--dry-run'])).toBe(0);
    expect(out.join('')).toContain('restore plan for stanza main: ready');
    expect(await restore(['--dry-run', '--output=json', '--type=default'])).toBe(0);
    const plan = JSON.parse(out.at(-1)!) as RestorePlanJson;
    expect(plan).toMatchObject({ format: 1, ok: true, summary: { fetchFiles: 4 } });
    expect(plan.recovery.restoreCommand).toMatch(/ --config=\S+ --stanza=main archive-get %f "%p"$/);
    expect(readdirSync(target)).toEqual([]);
    expect(existsSync(join(repo.root, 'spool/archive/main'))).toBe(true);

    expect(await restore([])).toBe(0);
    expect(readFileSync(join(target, 'base/1/1'), 'utf8')).toBe('one');
    expect(existsSync(join(repo.root, 'spool/archive/main'))).toBe(false); // old acknowledgements gone
    expect(logged.join('')).toContain('INFO: restore command end: completed successfully');
    expect(logged.join('')).toContain('fetched 4 files');
  });

  it('a plan with problems: printed with --dry-run, then the first problem is the error and exit code', async () => {
    const target = repo.dir('data');
    writeFileSync(join(target, 'PG_VERSION'), '15\n');
    writeFileSync(join(target, 'postmaster.pid'), '1\n');
    expect(await restore(['--dry-run'])).toBe(38);
    expect(out.join('')).toContain('[038] PgRunning: unable to restore while PostgreSQL is running');
    expect(logged.join('')).toContain('ERROR: [038]: unable to restore while PostgreSQL is running');
    expect(logged.join('')).toContain('ERROR: [040]: unable to restore to path');
    out.length = 0;
    expect(await restore([])).toBe(38);
    expect(out).toEqual([]);
  });

  it('logs warnings and notes of the plan', async () => {
    mkdirSync(join(repo.root, 'data'));
    expect(await restore(['--delta', '--type=none'])).toBe(0);
    expect(logged.join('')).toContain('--delta and --force have been disabled');
    expect(logged.join('')).toContain('was taken offline');
  });

  it('the desktop app plans and shows before it executes: a plan is plain JSON', async () => {
    const planned = await planRestore(repo.request(repo.dir('data')), { workers: IN_PROCESS, uid: UID });
    expect(JSON.parse(JSON.stringify(planned.json))).toEqual(planned.json);
  });
});
