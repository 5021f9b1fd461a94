import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { it } from 'vitest';

import { osUser } from '../../test/harness/os-user.js';
import { pgkeepBin, TestStanza } from '../../test/harness/stanza.js';
import { removeDir, tempDir } from '../../test/harness/temp-dir.js';
import { HEADER, measure, row, type Measurement } from '../backup/measure.js';

/**
 * Restore benchmark (issue 5): restore of a pgbench scale BENCH_SCALE (default 100, about
 * 1.5 GB) full backup into an empty directory, a delta restore of the same backup over it (no
 * change), and a delta restore of an incremental taken after ~1% of the data changed; pgkeep and
 * pgbackrest side by side, each into its own directory, from the same repository.
 */
const SCALE = Number(process.env.BENCH_SCALE ?? 100);
const RESULTS = join(import.meta.dirname, '..', '..', 'test-results');

it(`restore: pgkeep and pgbackrest on pgbench scale ${SCALE}`, async () => {
  const stanza = await TestStanza.create({ global: { 'compress-type': 'lz4', 'process-max': 2 } });
  const root = tempDir('restore-bench');
  const lines: string[] = [HEADER];
  const results: Record<string, { pgkeep: Measurement; pgbackrest: Measurement }> = {};
  try {
    await stanza.cluster.pgbench(['-i', '-s', String(SCALE), '-q']);
    await stanza.pgkeep(['stanza-create']);
    await stanza.pgkeep(['--type=full', 'backup']);
    const targets = { pgkeep: join(root, 'pgkeep'), pgbackrest: join(root, 'pgbackrest') };
    for (const dir of Object.values(targets)) {
      mkdirSync(dir, { mode: 0o700 });
      chownSync(dir, osUser().uid, osUser().gid);
    }
    const common = [`--config=${stanza.configPath}`, '--stanza=main', '--process-max=2', '--type=none'];
    const both = async (name: string, args: string[]) => {
      const ours = await measure(pgkeepBin(), [...common, `--pg1-path=${targets.pgkeep}`, ...args, 'restore'], stanza.root);
      const theirs = await measure(
        'pgbackrest',
        [...common, `--pg1-path=${targets.pgbackrest}`, ...args, 'restore'],
        stanza.root,
      );
      results[name] = { pgkeep: ours, pgbackrest: theirs };
      lines.push(row(name, ours, theirs));
      console.log(lines.at(-1));
    };
    console.log(HEADER);
    await both('restore (empty target)', []);
    await both('delta restore, no change', ['--delta']);

    await stanza.cluster.query(`UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= ${SCALE * 1000}`);
    await stanza.pgkeep(['--type=incr', 'backup']);
    await both('delta restore of incr after 1%', ['--delta']);
  } finally {
    removeDir(root);
    await stanza.destroy();
  }
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'bench-restore.json'), JSON.stringify({ scale: SCALE, results }, null, 2));
  console.log(`\n${lines.join('\n')}`);
});
