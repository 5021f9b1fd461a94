import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { osUser } from '../../harness/os-user.js';
import { TestStanza } from '../../harness/stanza.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

/**
 * The shape of each line a restore logs at level detail: the target directory, sizes, percentages
 * and checksums replaced by placeholders, so two tools' logs of the same restore compare.
 */
function shapes(output: string, target: string): string[] {
  return (
    output
      .split('\n')
      .filter((line) => / P\d\d +(DETAIL|INFO): /.test(line))
      .map((line) =>
        line
          .replace(/^.* P\d\d +/, '')
          .replaceAll(target, 'TARGET')
          .replace(/[0-9a-f]{40}/g, 'SHA1')
          .replace(/\(\d+(\.\d)?[KMG]?B, \d+\.\d\d%\)/, '(SIZE, PERCENT)')
          .replace(/'TARGET\/[^']*'/, "'TARGET/FILE'")
          .replace(/ TARGET\/\S+ /, ' TARGET/FILE '),
      )
      // pgkeep adds a summary line pgbackrest does not print
      .filter((line) => !/command (begin|end)|^INFO: fetched \d+ files/.test(line))
      .sort()
  );
}

/**
 * Each `restore file <path>` line's path and how it was restored. pgbackrest names pg_control by
 * the temporary name it writes it under first; pgkeep stages every file elsewhere and names the
 * file it restores.
 */
function restoredFiles(output: string, target: string): string[] {
  return [...output.matchAll(/DETAIL: restore file (\S+)( - exists and [a-z0-9 ]+)? \(/g)]
    .map(
      (match) => `${match[1]!.replace(target, 'TARGET').replace(/pg_control\.pgbackrest\.tmp$/, 'pg_control')}${match[2] ?? ''}`,
    )
    .sort();
}

/** A restore at level detail logs what pgbackrest 2.45 logs, line for line (apart from the order of the files). */
describe('the detail log of a restore', () => {
  let stanza: TestStanza;
  const targets = { pgkeep: '', pgbackrest: '' };

  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(1);
    await stanza.pgkeep(['--type=full', 'backup']);
    for (const tool of ['pgkeep', 'pgbackrest'] as const) {
      targets[tool] = join(tempDir(`restore-${tool}`), 'data');
      mkdirSync(targets[tool], { mode: 0o700 });
      chownSync(targets[tool], osUser().uid, osUser().gid);
    }
  });
  afterAll(async () => {
    for (const target of Object.values(targets)) if (target !== '') removeDir(join(target, '..'));
    await stanza?.destroy();
  });

  const restore = async (tool: 'pgkeep' | 'pgbackrest', args: string[]) => {
    const all = ['--log-level-console=detail', `--pg1-path=${targets[tool]}`, '--type=none', ...args, 'restore'];
    const { stdout } = tool === 'pgkeep' ? await stanza.pgkeep(all) : await stanza.pgbackrest(all);
    return { shapes: shapes(stdout, targets[tool]), files: restoredFiles(stdout, targets[tool]) };
  };

  it('into an empty directory', async () => {
    const ours = await restore('pgkeep', []);
    const theirs = await restore('pgbackrest', []);
    expect(ours.files.length).toBeGreaterThan(900);
    expect(ours.files).toEqual(theirs.files);
    expect(ours.shapes).toEqual(theirs.shapes);
  });

  it('with --delta over a changed file, an extra file and an extra directory', async () => {
    for (const target of Object.values(targets)) {
      writeFileSync(join(target, 'PG_VERSION'), '14\n');
      writeFileSync(join(target, 'base', 'stray'), 'x');
      mkdirSync(join(target, 'stray-dir'));
    }
    const ours = await restore('pgkeep', ['--delta']);
    const theirs = await restore('pgbackrest', ['--delta']);
    expect(ours.files).toContain('TARGET/PG_VERSION');
    expect(ours.files).toContain('TARGET/base/1/1259 - exists and matches backup');
    expect(ours.shapes).toContain("DETAIL: remove invalid file 'TARGET/FILE'");
    expect(ours.shapes).toContain("DETAIL: remove invalid path 'TARGET/FILE'");
    expect(ours.files).toEqual(theirs.files);
    expect(ours.shapes).toEqual(theirs.shapes);
  });

  it('with --delta --force, files kept by size and modification time', async () => {
    for (const target of Object.values(targets)) writeFileSync(join(target, 'PG_VERSION'), '14\n');
    const ours = await restore('pgkeep', ['--delta', '--force']);
    const theirs = await restore('pgbackrest', ['--delta', '--force']);
    expect(ours.files).toContain('TARGET/PG_VERSION');
    expect(
      ours.files.filter((file) => / - exists and matches size \d+ and modification time \d+$/.test(file)).length,
    ).toBeGreaterThan(900);
    expect(ours.files).toEqual(theirs.files);
    expect(ours.shapes).toEqual(theirs.shapes);
  });
});
