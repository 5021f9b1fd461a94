import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { it } from 'vitest';

import { osUser } from '../../test/harness/os-user.js';
import { run } from '../../test/harness/run.js';
import { pgkeepBin, TestStanza } from '../../test/harness/stanza.js';
import { removeDir, tempDir } from '../../test/harness/temp-dir.js';
import { alternating, HEADER, measure, ROUNDS, row, type Measurement, type Tool } from '../backup/measure.js';

/**
 * Restore benchmark (issue 5): restore of a pgbench scale BENCH_SCALE (default 100, about
 * 1.5 GB) full backup into an empty directory, a delta restore of the same backup over it (no
 * change), and a delta restore of an incremental taken after ~1% of the data changed; pgkeep and
 * pgbackrest side by side, each into its own directory, from the same repository; and the restore
 * of the same backup taken into repo2, an encrypted repository (repo2-cipher-type=aes-256-cbc).
 *
 * Each case runs BENCH_ROUNDS times (default 3) for each tool, the order of the two tools
 * alternating from round to round (which one runs first changed a result by up to 2x on this
 * machine: the page cache and the file system's state after the other's run), each run prepared
 * the same way before it is measured; the medians are reported.
 */
const SCALE = Number(process.env.BENCH_SCALE ?? 100);
const RESULTS = join(import.meta.dirname, '..', '..', 'test-results');

it(`restore: pgkeep and pgbackrest on pgbench scale ${SCALE}`, async () => {
  const root = tempDir('restore-bench');
  mkdirSync(join(root, 'repo2'));
  chownSync(join(root, 'repo2'), osUser().uid, osUser().gid);
  const stanza = await TestStanza.create({
    global: {
      'compress-type': 'lz4',
      'process-max': 2,
      'repo2-path': join(root, 'repo2'),
      'repo2-cipher-type': 'aes-256-cbc',
      'repo2-cipher-pass': 'bench passphrase',
    },
  });
  const lines: string[] = [HEADER];
  const results: Record<string, { pgkeep: Measurement; pgbackrest: Measurement }> = {};
  try {
    await stanza.cluster.pgbench(['-i', '-s', String(SCALE), '-q']);
    await stanza.pgkeep(['stanza-create']);
    await stanza.pgkeep(['--type=full', 'backup']);
    await stanza.pgkeep(['--repo=2', '--type=full', 'backup']);
    const info = JSON.parse((await stanza.pgkeep(['--output=json', '--repo=1', 'info'])).stdout) as [
      { backup: { label: string }[] },
    ];
    const fullLabel = info[0].backup.at(-1)!.label;
    const targets = { pgkeep: join(root, 'pgkeep'), pgbackrest: join(root, 'pgbackrest') };
    const emptyTarget = (tool: Tool) => {
      rmSync(targets[tool], { recursive: true, force: true });
      mkdirSync(targets[tool], { mode: 0o700 });
      chownSync(targets[tool], osUser().uid, osUser().gid);
    };
    const common = [`--config=${stanza.configPath}`, '--stanza=main', '--process-max=2', '--type=none'];
    const restoreArgs = (tool: Tool, args: readonly string[]) => [...common, `--pg1-path=${targets[tool]}`, ...args, 'restore'];
    const program = (tool: Tool) => (tool === 'pgkeep' ? pgkeepBin() : 'pgbackrest');
    const both = async (name: string, args: string[], prepare: (tool: Tool) => Promise<void> | void) => {
      results[name] = await alternating(async (tool) => {
        await prepare(tool);
        return measure(program(tool), restoreArgs(tool, args), stanza.root);
      });
      lines.push(row(name, results[name].pgkeep, results[name].pgbackrest));
      console.log(lines.at(-1));
    };
    console.log(`${HEADER}   (medians of ${ROUNDS} runs each)`);
    await both('restore (empty target)', ['--repo=1'], emptyTarget);
    await both('delta restore, no change', ['--repo=1', '--delta'], () => undefined);
    await both('restore (empty target) encrypted', ['--repo=2'], emptyTarget);

    await stanza.cluster.query(`UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= ${SCALE * 1000}`);
    await stanza.pgkeep(['--repo=1', '--type=incr', 'backup']);
    // Before each run its target holds the full backup again (with the tool's own delta restore, not measured).
    await both('delta restore of incr after 1%', ['--repo=1', '--delta'], async (tool) => {
      await run(program(tool), restoreArgs(tool, ['--delta', `--set=${fullLabel}`]), {
        user: 'postgres',
        cwd: stanza.root,
        env: { PATH: process.env.PATH },
      });
    });
  } finally {
    removeDir(root);
    await stanza.destroy();
  }
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'bench-restore.json'), JSON.stringify({ scale: SCALE, rounds: ROUNDS, results }, null, 2));
  console.log(`\n${lines.join('\n')}`);
});
