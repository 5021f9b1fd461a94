import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStanza } from '../../harness/stanza.js';

/** The info lines of a command, its begin and end lines left out, segment names and file names as placeholders. */
function infoLines(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => / P\d\d +INFO: /.test(line) && !/command (begin|end)/.test(line))
    .map((line) => line.replace(/^.* P\d\d +INFO: /, '').replace(/[0-9A-F]{24}(-[0-9a-f]{40})?/g, 'SEGMENT'));
}

/** check, stanza-create and stanza-upgrade say what pgbackrest 2.45 says. */
describe('stanza commands log as pgbackrest does', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.create();
  });
  afterAll(async () => stanza?.destroy());

  const both = async (args: string[]) => {
    const all = ['--log-level-console=info', ...args];
    return { ours: infoLines((await stanza.pgkeep(all)).stdout), theirs: infoLines((await stanza.pgbackrest(all)).stdout) };
  };

  it('stanza-create on a valid stanza, stanza-upgrade with nothing to upgrade, check', async () => {
    await stanza.pgkeep(['stanza-create']);
    const create = await both(['stanza-create']);
    expect(create.ours).toEqual([
      "stanza-create for stanza 'main' on repo1",
      "stanza 'main' already exists on repo1 and is valid",
    ]);
    expect(create.ours).toEqual(create.theirs);

    const upgrade = await both(['stanza-upgrade']);
    expect(upgrade.ours).toEqual(["stanza-upgrade for stanza 'main' on repo1", "stanza 'main' on repo1 is already up to date"]);
    expect(upgrade.ours).toEqual(upgrade.theirs);

    const check = await both(['check']);
    expect(check.ours).toHaveLength(3);
    expect(check.ours).toEqual(check.theirs);
  });
});
