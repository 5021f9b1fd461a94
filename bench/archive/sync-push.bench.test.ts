import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { it } from 'vitest';

import { run } from '../../test/harness/run.js';
import { pgkeepBin, TestStanza } from '../../test/harness/stanza.js';
import { tempDir } from '../../test/harness/temp-dir.js';

/**
 * Synchronous archive-push (issue 3): the time of one `archive-push` call per 16 MB segment, whole
 * process, pgkeep and pgbackrest side by side on the same segments, each into a fresh stanza of its
 * own, compress-type lz4 and gz. Alternating A B A B so drift of the machine hits both.
 */
const SEGMENTS = Number(process.env.BENCH_SEGMENTS ?? 12);
const RESULTS = join(import.meta.dirname, '..', '..', 'test-results');

it(`sync archive-push: ${SEGMENTS} segments, pgkeep and pgbackrest`, async () => {
  const stanza = await TestStanza.create({ archiver: 'none', cluster: { settings: { wal_keep_size: "'2GB'" } } });
  const walDir = tempDir('bench-wal');
  const results: Record<string, { pgkeep: number[]; pgbackrest: number[] }> = {};
  try {
    // Real WAL: pgbench writes, each segment switched out and kept aside (PostgreSQL's own bytes).
    await stanza.cluster.pgbench(['-i', '-s', '5', '-q']);
    const segments: string[] = [];
    while (segments.length < SEGMENTS) {
      await stanza.cluster.pgbench(['-n', '-t', '2000', '-c', '2']);
      const name = String(await stanza.cluster.value('SELECT pg_walfile_name(pg_current_wal_insert_lsn())'));
      await stanza.cluster.query('SELECT pg_switch_wal()');
      if (!segments.includes(name)) {
        copyFileSync(join(stanza.cluster.dataDir, 'pg_wal', name), join(walDir, name));
        chmodSync(join(walDir, name), 0o644);
        segments.push(name);
      }
    }

    for (const compress of ['lz4', 'gz']) {
      const repos = {
        pgkeep: join(stanza.root, `repo-pgkeep-${compress}`),
        pgbackrest: join(stanza.root, `repo-pgbackrest-${compress}`),
      };
      const times: { pgkeep: number[]; pgbackrest: number[] } = { pgkeep: [], pgbackrest: [] };
      for (const [tool, repo] of Object.entries(repos)) {
        mkdirSync(repo);
        await run('chown', ['postgres:postgres', repo]);
        const args = [`--config=${stanza.configPath}`, '--stanza=main', `--repo1-path=${repo}`];
        await (tool === 'pgkeep'
          ? run(pgkeepBin(), [...args, 'stanza-create'], { user: 'postgres' })
          : run('pgbackrest', [...args, 'stanza-create'], { user: 'postgres' }));
      }
      for (const segment of segments) {
        for (const tool of ['pgkeep', 'pgbackrest'] as const) {
          const args = [
            `--config=${stanza.configPath}`,
            '--stanza=main',
            `--repo1-path=${repos[tool]}`,
            `--compress-type=${compress}`,
            'archive-push',
            join(walDir, segment),
          ];
          const started = process.hrtime.bigint();
          await run(tool === 'pgkeep' ? pgkeepBin() : 'pgbackrest', args, { user: 'postgres', cwd: stanza.cluster.dataDir });
          times[tool].push(Number(process.hrtime.bigint() - started) / 1e6);
        }
      }
      results[compress] = times;
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
      console.log(
        `sync archive-push ${compress}, ms per 16 MB segment (median of ${segments.length}): pgkeep ${median(times.pgkeep).toFixed(1)}, pgbackrest ${median(times.pgbackrest).toFixed(1)}, ratio ${(median(times.pgkeep) / median(times.pgbackrest)).toFixed(2)}`,
      );
    }
  } finally {
    await stanza.destroy();
  }
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'bench-archive-sync.json'), JSON.stringify(results, null, 2));
});
