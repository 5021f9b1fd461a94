import { cpSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { VerifyReport } from '../../../engine/command/verify/verify-report.js';
import { parseManifest, type Manifest } from '../../../engine/repo/manifest/manifest.js';
import { run } from '../../harness/run.js';
import { TestStanza, type Archiver } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';

/**
 * `pgkeep verify` against repositories written by real tools, checked against the real
 * `pgbackrest verify` on the same repository: a sound repository gets byte-identical text from
 * both tools, and a damaged copy of it (a bit flip, a truncation and a deletion in backup files, a
 * missing and a flipped WAL segment) gets every fault found by pgkeep, with the same counts as
 * pgbackrest where pgbackrest looks, plus the missing WAL range pgbackrest 2.45 does not report.
 *
 * Each case names who archives the WAL and who takes the backups.
 */
interface Case {
  readonly name: string;
  readonly archiver: Exclude<Archiver, 'none'>;
  readonly backupTool: 'pgbackrest' | 'pgkeep';
}

const cases: Case[] = [
  { name: 'written by pgbackrest', archiver: 'pgbackrest', backupTool: 'pgbackrest' },
  { name: 'with WAL archived by pgkeep and backups by pgbackrest', archiver: 'pgkeep', backupTool: 'pgbackrest' },
  { name: 'written by pgkeep', archiver: 'pgkeep', backupTool: 'pgkeep' },
];

const EXIT_VERIFY_INVALID = 185;

/** Lines pgkeep adds to pgBackRest's text layout for findings pgBackRest 2.45 does not look for. */
const PGKEEP_ONLY_LINE = /^ {4}(missing range|wal missing|wal invalid|duplicate|partial invalid|history file invalid):/;

describe.each(cases)('pgkeep verify on a repository $name', ({ archiver, backupTool }) => {
  let stanza: TestStanza;
  let full: Manifest;
  let incr: Manifest;
  /** Archived segments, in order (24-character names) and their stored files. */
  let segments: { name: string; file: string }[];
  let damagedRepo: string;
  const faults: { flipped: string; truncated: string; removed: string; gap: string; walFlipped: string } = {
    flipped: '',
    truncated: '',
    removed: '',
    gap: '',
    walFlipped: '',
  };

  const tool = (which: 'pgkeep' | 'pgbackrest', args: string[], options: { check?: boolean } = {}) =>
    which === 'pgkeep' ? stanza.pgkeep(args, options) : stanza.pgbackrest(args, options);

  beforeAll(async () => {
    stanza = await TestStanza.create({ archiver });
    await tool(archiver, ['stanza-create']);
    await tool(backupTool, ['backup', '--type=full']);
    await stanza.cluster.pgbench(['-i', '-s', '1', '-q']);
    // Segments between the two backups that no backup needs: where the WAL faults go
    for (let switches = 0; switches < 4; switches++) {
      await stanza.cluster.query('UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 10 = 0');
      await stanza.cluster.query('SELECT pg_switch_wal()');
    }
    await tool(backupTool, ['backup', '--type=incr']);
    await stanza.cluster.query('INSERT INTO pgbench_history (tid, bid, aid, delta) VALUES (1, 1, 1, 1)');
    await stanza.cluster.query('SELECT pg_switch_wal()');
    // A stopped cluster archives everything that is ready and then nothing more: the repository stands still
    await stanza.cluster.stop();

    const labels = readdirSync(join(stanza.repoPath, 'backup', 'main'))
      .filter((name) => /^\d{8}-\d{6}F/.test(name))
      .sort();
    expect(labels).toHaveLength(2);
    const manifest = (label: string) =>
      parseManifest(readFileSync(join(stanza.repoPath, 'backup', 'main', label, 'backup.manifest')), label);
    [full, incr] = [manifest(labels[0]!), manifest(labels[1]!)];
    segments = [];
    const archive = join(stanza.repoPath, 'archive', 'main', '15-1');
    for (const dir of readdirSync(archive)
      .filter((name) => /^[0-9A-F]{16}$/.test(name))
      .sort()) {
      for (const file of readdirSync(join(archive, dir))
        .filter((name) => /^[0-9A-F]{24}-[0-9a-f]{40}/.test(name))
        .sort())
        segments.push({ name: file.slice(0, 24), file: join(archive, dir, file) });
    }

    // The damaged copy
    damagedRepo = join(tempDir('verify-damaged'), 'repo');
    cpSync(stanza.repoPath, damagedRepo, { recursive: true });
    // Three files of the full backup that the incremental one references (unchanged template1 relations)
    const referenced = [...incr.files.values()]
      .filter((file) => file.reference === full.backup.label && file.name.startsWith('pg_data/base/1/') && file.size >= 16384)
      .map((file) => file.name)
      .sort();
    expect(referenced.length).toBeGreaterThanOrEqual(3);
    const stored = (name: string) => join(damagedRepo, 'backup', 'main', full.backup.label, `${name}.lz4`);
    [faults.flipped, faults.truncated, faults.removed] = referenced.slice(0, 3);
    flipByte(stored(faults.flipped));
    truncateSync(stored(faults.truncated), Math.floor(readFileSync(stored(faults.truncated)).length / 2));
    rmSync(stored(faults.removed));
    // Two segments after the full backup's and before the incremental's WAL
    const free = segments.filter(
      (segment) => segment.name > full.backup.archiveStop! && segment.name < incr.backup.archiveStart!,
    );
    expect(free.length).toBeGreaterThanOrEqual(3);
    faults.gap = free[0]!.name;
    faults.walFlipped = free[2]!.name;
    rmSync(free[0]!.file.replace(stanza.repoPath, damagedRepo));
    flipByte(free[2]!.file.replace(stanza.repoPath, damagedRepo));
    await run('chown', ['-R', 'postgres:postgres', damagedRepo]);
  });
  afterAll(async () => stanza?.destroy());

  const damaged = (args: string[]) => [...args, `--repo1-path=${damagedRepo}`];

  it('finds a sound repository valid, with the same text as pgbackrest verify, with and without --verbose', async () => {
    for (const verbose of [[], ['--verbose']]) {
      const ours = await stanza.pgkeep(['verify', '--output=text', '--process-max=2', ...verbose]);
      const theirs = await stanza.pgbackrest(['verify', '--output=text', ...verbose]);
      expect(ours.code).toBe(0);
      expect(ours.stdout).toBe(theirs.stdout);
    }
    const report = await jsonReport(stanza, ['verify', '--output=json']);
    expect(report.status).toBe('ok');
    expect(report.archives[0]).toMatchObject({ archiveId: '15-1', segmentSize: 16 * 1024 * 1024, walChecked: segments.length });
    expect(report.archives[0]!.missingRanges).toEqual([]);
    expect(report.backups.map((backup) => [backup.label, backup.status, backup.filesChecked])).toEqual([
      [full.backup.label, 'valid', full.files.size],
      [incr.backup.label, 'valid', incr.files.size],
    ]);
    for (const backup of report.backups) expect(backup.wal?.needed).toBe(backup.wal?.valid);
  });

  it('finds every injected fault, and agrees with pgbackrest verify wherever pgbackrest looks', async () => {
    const result = await stanza.pgkeep(damaged(['verify', '--output=json', '--process-max=2']), { check: false });
    expect(result.code).toBe(EXIT_VERIFY_INVALID);
    const report = JSON.parse(result.stdout) as VerifyReport;
    expect(report.status).toBe('error');

    const fullReport = report.backups.find((backup) => backup.label === full.backup.label)!;
    expect(fullReport.status).toBe('invalid');
    expect(fullReport.invalidFiles.map((file) => [file.name, file.reason]).sort()).toEqual(
      [
        [faults.flipped, 'checksumInvalid'],
        // rck is checked first, as pgBackRest does: a cut file fails its checksum before its size
        [faults.truncated, 'checksumInvalid'],
        [faults.removed, 'missing'],
      ].sort(),
    );
    // The incremental backup references the same three files
    const incrReport = report.backups.find((backup) => backup.label === incr.backup.label)!;
    expect(incrReport.status).toBe('invalid');
    expect(incrReport.invalidFiles.map((file) => file.name).sort()).toEqual(
      [faults.flipped, faults.truncated, faults.removed].sort(),
    );

    const archive = report.archives[0]!;
    expect(archive.missingRanges).toEqual([{ timeline: 1, start: faults.gap, stop: faults.gap, segments: 1 }]);
    expect(archive.invalidFiles).toEqual([
      expect.objectContaining({ file: expect.stringContaining(`/${faults.walFlipped}-`), reason: 'other' }),
    ]);
    expect(archive).toMatchObject({ walChecked: segments.length - 1, walValid: segments.length - 2 });
    // Neither backup needs the damaged WAL
    for (const backup of report.backups) expect(backup.wal?.needed).toBe(backup.wal?.valid);

    // pgbackrest on the same damaged repository: the same counts, and pgkeep's text is its text plus the missing range
    for (const verbose of [[], ['--verbose']]) {
      const ours = await stanza.pgkeep(damaged(['verify', '--output=text', ...verbose]), { check: false });
      const theirs = await stanza.pgbackrest(damaged(['verify', '--output=text', '--job-retry=0', ...verbose]));
      const lines = ours.stdout.split('\n');
      expect(lines.filter((line) => PGKEEP_ONLY_LINE.test(line))).toEqual([`    missing range: ${faults.gap} (1 segment)`]);
      expect(lines.filter((line) => !PGKEEP_ONLY_LINE.test(line)).join('\n')).toBe(theirs.stdout);
    }
  });

  it('verifies one backup and the WAL it needs with --set', async () => {
    const result = await stanza.pgkeep(damaged(['verify', '--output=json', `--set=${incr.backup.label}`]), { check: false });
    expect(result.code).toBe(EXIT_VERIFY_INVALID);
    const report = JSON.parse(result.stdout) as VerifyReport;
    expect(report.backups.map((backup) => backup.label)).toEqual([incr.backup.label]);
    // Only the incremental backup's WAL was read: the damaged segments are not in it
    expect(report.archives[0]!.walChecked).toBe(report.backups[0]!.wal!.needed);
    expect(report.archives[0]!.invalidFiles).toEqual([]);
    expect(report.backups[0]!.counts).toEqual({ missing: 1, checksumInvalid: 2, sizeInvalid: 0, other: 0 });
  });

  it('finds a backup without the WAL it needs not consistent', async () => {
    const repo = join(tempDir('verify-nowal'), 'repo');
    cpSync(stanza.repoPath, repo, { recursive: true });
    const needed = segments.find((segment) => segment.name === incr.backup.archiveStart)!;
    rmSync(needed.file.replace(stanza.repoPath, repo));
    await run('chown', ['-R', 'postgres:postgres', repo]);
    const result = await stanza.pgkeep(['verify', '--output=text', `--repo1-path=${repo}`], { check: false });
    expect(result.code).toBe(EXIT_VERIFY_INVALID);
    expect(result.stdout).toContain(`  backup: ${incr.backup.label}, status: invalid, total files checked: ${incr.files.size}`);
    expect(result.stdout).toContain(`    wal missing: ${needed.name}`);
    expect(result.stderr).toContain(`ERROR: [185]: stanza 'main' on repo1 failed verification`);
  });
});

function flipByte(path: string): void {
  const data = readFileSync(path);
  const at = Math.floor(data.length / 2);
  data[at] = data[at]! ^ 0x01;
  writeFileSync(path, data);
}

async function jsonReport(stanza: TestStanza, args: string[]): Promise<VerifyReport> {
  return JSON.parse((await stanza.pgkeep(args)).stdout) as VerifyReport;
}
