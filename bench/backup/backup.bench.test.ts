import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { it } from 'vitest';

import { pgkeepBin, TestStanza } from '../../test/harness/stanza.js';
import { osUser } from '../../test/harness/os-user.js';
import { run } from '../../test/harness/run.js';
import { removeDir, tempDir } from '../../test/harness/temp-dir.js';
import { alternating, HEADER, measure, ROUNDS, row, type Measurement, type Tool } from './measure.js';

/**
 * Backup benchmark (issue 4): full backups with lz4 and gz at process-max 1 and 2, and an
 * incremental after ~1% of the data changed, pgkeep and pgbackrest side by side on the same
 * cluster (pgbench, scale BENCH_SCALE, default 100: about 1.5 GB). Each case is a whole process
 * under /usr/bin/time: wall, CPU (children included) and the peak memory of the largest process;
 * each case runs ROUNDS times per tool, the tools' order alternating, and the medians are reported.
 * Memory flatness: the same pgkeep backup of clusters a tenth and twice the size. Encryption: a
 * full lz4 backup into repo2, an encrypted repository (repo2-cipher-type=aes-256-cbc).
 */
const SCALE = Number(process.env.BENCH_SCALE ?? 100);
const RESULTS = join(import.meta.dirname, '..', '..', 'test-results');

it(`backup: pgkeep and pgbackrest on pgbench scale ${SCALE}`, async () => {
  const root = tempDir('backup-bench-repo2');
  chownSync(root, osUser().uid, osUser().gid);
  const stanza = await TestStanza.create({
    global: {
      'compress-type': 'lz4',
      'archive-timeout': 300,
      'repo2-path': root,
      'repo2-cipher-type': 'aes-256-cbc',
      'repo2-cipher-pass': 'bench passphrase',
    },
  });
  const lines: string[] = [HEADER];
  const results: Record<string, { pgkeep: Measurement; pgbackrest?: Measurement }> = {};
  const record = (name: string, ours: Measurement, theirs?: Measurement) => {
    results[name] = { pgkeep: ours, ...(theirs === undefined ? {} : { pgbackrest: theirs }) };
    lines.push(row(name, ours, theirs));
    console.log(lines.at(-1));
  };
  try {
    await stanza.cluster.pgbench(['-i', '-s', String(SCALE), '-q']);
    await stanza.cluster.query('CHECKPOINT');
    await stanza.pgkeep(['stanza-create']);
    const size = String(await stanza.cluster.value('SELECT pg_size_pretty(pg_database_size(current_database()))'));
    console.log(`cluster: pgbench scale ${SCALE}, ${size}`);
    await stanza.pgkeep(['--type=full', 'backup']); // page cache warm for both tools
    console.log(`${HEADER}   (medians of ${ROUNDS} runs each, the tools' order alternating)`);

    const common = [`--config=${stanza.configPath}`, '--stanza=main'];
    const program = (tool: Tool) => (tool === 'pgkeep' ? pgkeepBin() : 'pgbackrest');
    const both = async (name: string, args: string[]) => {
      const medians = await alternating((tool) =>
        measure(program(tool), [...common, ...args, '--no-expire-auto', 'backup'], stanza.root),
      );
      record(name, medians.pgkeep, medians.pgbackrest);
    };
    for (const compress of ['lz4', 'gz']) {
      for (const processMax of [1, 2])
        await both(`full ${compress} process-max ${processMax}`, [
          '--type=full',
          `--compress-type=${compress}`,
          `--process-max=${processMax}`,
        ]);
    }

    // ~1% of the data changes after a full backup of the tool's own (not measured): a contiguous
    // 1% of the accounts, pgbench's biggest table.
    const change = Math.floor(SCALE * 1000);
    const incr = await alternating(async (tool) => {
      await run(
        program(tool),
        [...common, '--type=full', '--compress-type=lz4', '--process-max=2', '--no-expire-auto', 'backup'],
        {
          user: 'postgres',
          cwd: stanza.root,
          env: { PATH: process.env.PATH },
        },
      );
      await stanza.cluster.query(`UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= ${change}`);
      await stanza.cluster.query('CHECKPOINT');
      return measure(program(tool), [...common, '--type=incr', '--process-max=2', '--no-expire-auto', 'backup'], stanza.root);
    });
    record('incr lz4 process-max 2 after 1%', incr.pgkeep, incr.pgbackrest);
    await both('full lz4 process-max 2 encrypted', ['--repo=2', '--type=full', '--compress-type=lz4', '--process-max=2']);
  } finally {
    await stanza.destroy();
    removeDir(root);
  }

  // Memory stays flat as the database grows: the same backup of clusters a tenth and twice the
  // size. (A worker's peak rises with a file until the file is a few hundred MB, then stays: a
  // tenth of scale 100 has no such file, twice has more of them.)
  for (const scale of [Math.max(1, Math.floor(SCALE / 10)), SCALE * 2]) {
    const other = await TestStanza.create({ global: { 'compress-type': 'lz4' } });
    try {
      await other.cluster.pgbench(['-i', '-s', String(scale), '-q']);
      await other.pgkeep(['stanza-create']);
      // Not measured: waits until PostgreSQL has archived the WAL of the data load, and warms the page cache.
      await other.pgkeep(['--type=full', 'backup']);
      const ours = await measure(
        pgkeepBin(),
        [`--config=${other.configPath}`, '--stanza=main', '--type=full', '--process-max=2', 'backup'],
        other.root,
      );
      record(`full lz4 process-max 2, scale ${scale}`, ours);
    } finally {
      await other.destroy();
    }
  }

  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'bench-backup.json'), JSON.stringify({ scale: SCALE, results }, null, 2));
  console.log(`\n${lines.join('\n')}`);
});
