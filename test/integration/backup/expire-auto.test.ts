import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStanza } from '../../harness/stanza.js';

/** A pgkeep backup expires by retention when it ends (expire-auto), under its own lock. */
describe('backup runs expire by retention', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(1, { global: { 'repo1-retention-full': 1 } });
  });
  afterAll(async () => stanza?.destroy());

  it('keeps one full backup set and the WAL it needs; --no-expire-auto keeps everything', async () => {
    const label = async (args: string[]) => {
      const result = await stanza.pgkeep(['--output=json', ...args, 'backup']);
      return (JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { label: string }).label;
    };
    const first = await label(['--type=full']);
    const incr = await label(['--type=incr']);
    const second = await label(['--type=full', '--no-expire-auto']);
    expect(
      readdirSync(join(stanza.repoPath, 'backup', 'main'))
        .filter((name) => /^\d{8}-/.test(name))
        .sort(),
    ).toEqual([first, incr, second]);

    const third = await label(['--type=full']);
    const left = readdirSync(join(stanza.repoPath, 'backup', 'main'))
      .filter((name) => /^\d{8}-/.test(name))
      .sort();
    expect(left).toEqual([third]);
    const info = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as [
      { backup: { label: string; archive: { start: string } }[]; archive: { min: string }[] },
    ];
    expect(info[0].backup.map((backup) => backup.label)).toEqual([third]);
    expect(info[0].archive[0]!.min).toBe(info[0].backup[0]!.archive.start);
  });
});
