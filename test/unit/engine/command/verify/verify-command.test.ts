import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { setWorkerSpawner } from '../../../../../engine/command/common/workers.js';
import { runCommand } from '../../../../../engine/command/run.js';
import type { VerifyReport } from '../../../../../engine/command/verify/verify-report.js';
import { FakeRepo, inProcess, segmentName } from './fake-repo.js';

const repos: FakeRepo[] = [];
afterEach(() => {
  for (const repo of repos.splice(0)) repo.destroy();
});

beforeAll(() => {
  // The CLI forks worker processes from dist/; here the handler runs in this process
  setWorkerSpawner(inProcess.spawn!);
});

const FULL = '20261121-065013F';

async function sampleRepo(): Promise<FakeRepo> {
  const repo = await FakeRepo.create();
  repos.push(repo);
  await repo.pushWals(1, 3);
  await repo.addBackup({
    label: FULL,
    archiveStart: segmentName(1, 2),
    archiveStop: segmentName(1, 2),
    files: [{ name: 'pg_data/PG_VERSION', content: Buffer.from('15\n') }, { name: 'pg_data/base/1/1259' }],
  });
  writeFileSync(
    join(repo.root, 'pgbackrest.conf'),
    `[global]\nrepo1-path=${repo.root}\nlog-level-file=off\n\n[main]\npg1-path=/nonexistent\n`,
  );
  return repo;
}

async function verify(repo: FakeRepo, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCommand([`--config=${join(repo.root, 'pgbackrest.conf')}`, '--stanza=main', 'verify', ...args], {
    env: {},
    out: (text) => (stdout += text),
    sink: { stdout: () => undefined, stderr: (text) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

describe('pgkeep verify', () => {
  it('prints nothing and exits 0 for a sound repository without --verbose (as pgBackRest)', async () => {
    const repo = await sampleRepo();
    expect(await verify(repo, ['--output=text'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('prints the text report with --verbose', async () => {
    const repo = await sampleRepo();
    const result = await verify(repo, ['--output=text', '--verbose', '--process-max=2']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'stanza: main',
        'status: ok',
        '  archiveId: 15-1, total WAL checked: 3, total valid WAL: 3',
        '    missing: 0, checksum invalid: 0, size invalid: 0, other: 0',
        `  backup: ${FULL}, status: valid, total files checked: 2, total valid files: 2`,
        '    missing: 0, checksum invalid: 0, size invalid: 0, other: 0',
        '',
      ].join('\n'),
    );
  });

  it('prints the JSON report, and exits 185 with an error naming what is wrong when something is invalid', async () => {
    const repo = await sampleRepo();
    repo.remove(await repo.walPath(segmentName(1, 2)));
    const result = await verify(repo, ['--output=json']);
    expect(result.code).toBe(185);
    const report = JSON.parse(result.stdout) as VerifyReport;
    expect(report).toMatchObject({ stanza: 'main', repo: 1, status: 'error', set: null });
    expect(report.archives[0]!.missingRanges).toEqual([
      { timeline: 1, start: segmentName(1, 2), stop: segmentName(1, 2), segments: 1 },
    ]);
    expect(report.backups[0]!.wal!.missing).toHaveLength(1);
    expect(result.stderr).toContain(
      "ERROR: [185]: stanza 'main' on repo1 failed verification: WAL of 1 archive id invalid or incomplete, 1 backup of 1 invalid",
    );
  });

  it('only logs the report with the default --output=none, and still fails', async () => {
    const repo = await sampleRepo();
    repo.write('backup/main/backup.info', 'damaged');
    repo.write('backup/main/backup.info.copy', 'damaged');
    const result = await verify(repo, []);
    expect(result.code).toBe(185);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/failed verification: 3 repository problems\n.*HINT: run verify with --output=text --verbose/s);
  });

  it('verifies one backup with --set', async () => {
    const repo = await sampleRepo();
    repo.remove(await repo.walPath(segmentName(1, 3)));
    const result = await verify(repo, ['--output=json', `--set=${FULL}`]);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as VerifyReport).archives[0]!.walChecked).toBe(1);
  });
});
