import { it } from 'vitest';

import { run } from '../../test/harness/run.js';
import { pgkeepBin, TestStanza } from '../../test/harness/stanza.js';

it('profile', async () => {
  const stanza = await TestStanza.create({ global: { 'compress-type': 'lz4' } });
  try {
    await stanza.cluster.pgbench(['-i', '-s', '20', '-q']);
    await stanza.pgkeep(['stanza-create']);
    await stanza.pgkeep(['--type=full', 'backup']);
    await run('node', ['--cpu-prof', '--cpu-prof-dir=/tmp/lead-prof', pgkeepBin().replace(/pgkeep$/, 'dist/engine/cli.js'), `--config=${stanza.configPath}`, '--stanza=main', '--type=full', 'backup'], { user: 'postgres', cwd: stanza.root, env: { PATH: process.env.PATH } });
  } finally {
    await stanza.destroy();
  }
});
