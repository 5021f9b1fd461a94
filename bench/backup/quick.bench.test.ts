import { it } from 'vitest';

import { pgkeepBin, TestStanza } from '../../test/harness/stanza.js';
import { HEADER, measure, row } from './measure.js';

it('quick backup comparison', async () => {
  const scale = Number(process.env.BENCH_SCALE ?? 20);
  const stanza = await TestStanza.create({ global: { 'compress-type': 'lz4' } });
  try {
    await stanza.cluster.pgbench(['-i', '-s', String(scale), '-q']);
    await stanza.pgkeep(['stanza-create']);
    await stanza.pgkeep(['--type=full', 'backup']); // warm the page cache
    console.log(HEADER);
    for (const processMax of [1, 2]) {
      const args = [`--config=${stanza.configPath}`, '--stanza=main', '--type=full', `--process-max=${processMax}`, 'backup'];
      const ours = await measure(pgkeepBin(), args, stanza.root);
      const theirs = await measure('pgbackrest', args, stanza.root);
      console.log(row(`full lz4 p${processMax} s${scale}`, ours, theirs));
    }
  } finally {
    await stanza.destroy();
  }
});
