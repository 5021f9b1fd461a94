import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStanza } from '../../harness/stanza.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

type InfoJson = [{ backup: { label: string; annotation?: Record<string, string> }[] }];

/**
 * `annotate`, checked against pgbackrest 2.45 on one repository: what pgkeep writes, pgbackrest
 * reads (its info validates backup.info's checksum) and shows as pgkeep does, and the other way
 * round; mistakes exit as pgbackrest's.
 */
describe('annotate', () => {
  let stanza: TestStanza;
  let ours: string;
  let theirs: string;
  const annotations = async (label: string, tool: 'pgkeep' | 'pgbackrest') => {
    const info = JSON.parse((await stanza[tool](['--output=json', 'info'])).stdout) as InfoJson;
    return info[0].backup.find((backup) => backup.label === label)!.annotation;
  };

  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(1);
    await stanza.pgkeep(['--type=full', '--annotation=source=pgkeep', '--annotation=ticket=1', 'backup']);
    await stanza.pgbackrest(['--type=full', 'backup']);
    const info = JSON.parse((await stanza.pgkeep(['--output=json', 'info'])).stdout) as InfoJson;
    [ours, theirs] = info[0].backup.map((backup) => backup.label) as [string, string];
  });
  afterAll(async () => {
    await stanza?.destroy();
  });

  it("adds, changes and removes keys; pgbackrest reads what pgkeep wrote and shows it as pgkeep's info does", async () => {
    const output = await stanza.pgkeep([
      `--set=${ours}`,
      '--annotation=ticket=2',
      '--annotation=source=',
      '--annotation=owner=dba team',
      '--log-level-console=info',
      'annotate',
    ]);
    expect(output.stdout).toContain(`backup set '${ours}' to annotate found in repo1`);
    expect(await annotations(ours, 'pgbackrest')).toEqual({ owner: 'dba team', ticket: '2' });
    const text = await stanza.pgkeep([`--set=${ours}`, 'info']);
    expect(text.stdout).toContain('annotation(s)');
    expect(text.stdout).toBe((await stanza.pgbackrest([`--set=${ours}`, 'info'])).stdout);

    // A backup without annotations gets its first; removing the last leaves none at all
    await stanza.pgkeep([`--set=${theirs}`, '--annotation=checked=yes', 'annotate']);
    expect(await annotations(theirs, 'pgbackrest')).toEqual({ checked: 'yes' });
    await stanza.pgkeep([`--set=${theirs}`, '--annotation=checked=', 'annotate']);
    expect(await annotations(theirs, 'pgbackrest')).toBeUndefined();
    expect(readFileSync(join(stanza.repoPath, 'backup/main/backup.info'), 'utf8')).not.toContain(`"backup-annotation":{}`);
  });

  it("reads pgbackrest's annotations and changes them as pgbackrest does: the same backup.info, byte for byte", async () => {
    const info = join(stanza.repoPath, 'backup/main/backup.info');
    await stanza.pgbackrest([`--set=${ours}`, '--annotation=ticket=3', '--annotation=extra=x', 'annotate']);
    expect(await annotations(ours, 'pgkeep')).toEqual({ owner: 'dba team', ticket: '3', extra: 'x' });
    const before = `${info}.before`;
    copyFileSync(info, before);
    const change = [`--set=${ours}`, '--annotation=extra=', '--annotation=new=value', 'annotate'];
    await stanza.pgbackrest(change);
    const byPgbackrest = readFileSync(info, 'utf8');
    copyFileSync(before, info);
    copyFileSync(before, `${info}.copy`);
    await stanza.pgkeep(change);
    expect(readFileSync(info, 'utf8')).toBe(byPgbackrest);
    expect(readFileSync(`${info}.copy`, 'utf8')).toBe(byPgbackrest);
  });

  it('refuses as pgbackrest: a set that is not a label, a set no repository has, no annotation; and a stopped stanza', async () => {
    expect(await stanza.bothExit(32, ['--set=latest', '--annotation=a=b', 'annotate'])).toContain(
      "'latest' is not a valid backup label format",
    );
    expect(await stanza.bothExit(75, ['--set=20200101-000000F', '--annotation=a=b', 'annotate'])).toContain(
      'no backup set to annotate found',
    );
    await stanza.bothExit(37, [`--set=${ours}`, 'annotate']);
    await stanza.bothExit(37, ['--annotation=a=b', 'annotate']);
    // pgbackrest 2.45 annotates a stopped stanza; pgkeep refuses, as for every command that
    // writes to the repository: stop is how a DBA freezes it
    await stanza.pgkeep(['stop']);
    try {
      expect(await stanza.pgkeep([`--set=${ours}`, '--annotation=a=b', 'annotate'], { check: false })).toMatchObject({
        code: 62,
        stderr: expect.stringContaining('stop file exists for stanza main'),
      });
    } finally {
      await stanza.pgkeep(['start']);
    }
    expect(await annotations(ours, 'pgkeep')).not.toHaveProperty('a');

    // A repository that fails is reported; the others are annotated all the same
    const empty = tempDir('annotate-repo2');
    try {
      const output = await stanza.bothExit(104, [`--repo2-path=${empty}`, `--set=${ours}`, '--annotation=both=yes', 'annotate']);
      expect(output).toContain('repo2: ');
      expect(output).toContain('annotate command encountered 1 error(s), check the log file for details');
    } finally {
      removeDir(empty);
    }
    expect(await annotations(ours, 'pgkeep')).toHaveProperty('both', 'yes');

    // A second repository with the stanza but without the set: the set is annotated where it is
    const repo2 = tempDir('annotate-repo2');
    try {
      await stanza.pgkeep([`--repo2-path=${repo2}`, '--repo=2', 'stanza-create']);
      const output = await stanza.pgkeep([
        `--repo2-path=${repo2}`,
        `--set=${ours}`,
        '--annotation=two=repos',
        '--log-level-console=info',
        'annotate',
      ]);
      expect(output.stdout).toContain(`backup set '${ours}' to annotate found in repo1`);
      expect(output.stdout).not.toContain('found in repo2');
    } finally {
      removeDir(repo2);
    }
    expect(await annotations(ours, 'pgkeep')).toHaveProperty('two', 'repos');
  });
});
