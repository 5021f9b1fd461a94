import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStanza } from '../../harness/stanza.js';

/** Backups pgbackrest 2.45 refuses are refused by pgkeep too, with its exit code, and leave nothing behind. */
describe('backups refused as pgbackrest refuses them', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(1);
  });
  afterAll(async () => stanza?.destroy());

  const backups = async () =>
    (JSON.parse((await stanza.pgkeep(['--output=json', 'info'])).stdout) as [{ backup: unknown[] }])[0].backup.length;

  it('an online backup without pg_control (an --exclude takes it), which could never be restored', async () => {
    for (const exclude of ['global/pg_control', 'global/'])
      expect(await stanza.bothExit(55, ['--type=full', `--exclude=${exclude}`, 'backup'])).toContain(
        'global/pg_control must be present in all online backups',
      );
    expect(await backups()).toBe(0);
    // The refused backups did not leave the cluster in backup mode: the next one runs
    await stanza.pgkeep(['--type=full', 'backup']);
    expect(await backups()).toBe(1);
  });

  it('a word where an option was meant', async () => {
    expect(await stanza.bothExit(96, ['--type=incr', 'backup', 'full'])).toContain('command does not allow parameters');
    await stanza.bothExit(96, ['info', 'main']);
  });
});
