import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStanza } from '../../harness/stanza.js';
import { emptyCluster, planOf, startRestored, switchAndArchive, tableDigest } from './helpers.js';

describe('scratch', () => {
  let stanza: TestStanza;

  beforeAll(async () => {
    stanza = await TestStanza.create({ archiver: 'pgbackrest' });
    await stanza.pgbackrest(['stanza-create']);
    await stanza.cluster.pgbench(['-i', '-s', '1', '-q']);
    await stanza.pgbackrest(['backup', '--type=full']);
    await stanza.cluster.query('UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid < 1000');
    await switchAndArchive(stanza);
  });
  afterAll(async () => stanza?.destroy());

  it('restores', async () => {
    const source = await tableDigest(stanza.cluster, 'pgbench_accounts');
    const target = await emptyCluster();
    const dry = await stanza.pgkeep(['restore', `--pg1-path=${target.dataDir}`, '--dry-run', '--output=json'], { check: false });
    console.log(dry.stderr);
    const plan = planOf(dry);
    console.log(JSON.stringify({ ...plan, files: plan.files.slice(0, 3), paths: plan.paths.slice(0, 3) }, null, 2));
    const text = await stanza.pgkeep(['restore', `--pg1-path=${target.dataDir}`, '--dry-run'], { check: false });
    console.log(text.stdout, text.stderr);
    const result = await stanza.pgkeep(['restore', `--pg1-path=${target.dataDir}`, '--log-level-console=info'], { check: false });
    console.log(result.stdout, result.stderr);
    await startRestored(target);
    expect(await tableDigest(target, 'pgbench_accounts')).toEqual(source);
    await target.destroy();
  });
});
