import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { osUser } from '../../harness/os-user.js';
import { PgCluster } from '../../harness/pg-cluster.js';
import { pgkeepBin } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';
import { asyncStanza, switchAndWait, type AsyncStanza } from './helpers.js';

async function digest(cluster: PgCluster): Promise<string> {
  return String(
    await cluster.value("SELECT md5(string_agg(aid::text || abalance::text, ',' ORDER BY aid)) FROM pgbench_accounts"),
  );
}

/**
 * A point-in-time recovery whose restore_command is `pgkeep archive-get` with archive-async: the
 * background process prefetches the segments recovery asks for next (up to
 * archive-get-queue-max) into the spool, each call only moves one into place, and the recovered
 * cluster has exactly the source's data. The archive was written by pgkeep's asynchronous push,
 * the backup taken by the real pgbackrest.
 */
describe('asynchronous archive-get in a real recovery', () => {
  let source: AsyncStanza;
  let restored: PgCluster;
  let expected: string;
  let restoreRoot: string;

  beforeAll(async () => {
    source = await asyncStanza({ copyOriginals: false });
    const { stanza } = source;
    await stanza.pgkeep(['stanza-create']);
    await stanza.cluster.pgbench(['-i', '-s', '2', '-q']);
    await stanza.pgbackrest(['backup', '--type=full']);
    // WAL after the backup: what recovery has to replay from the archive
    await stanza.cluster.pgbench(['-c', '2', '-t', '3000', '-n']);
    await stanza.cluster.query('CHECKPOINT');
    await stanza.cluster.pgbench(['-c', '2', '-t', '2000', '-n']);
    expected = await digest(stanza.cluster);
    await switchAndWait(stanza);

    // The restored cluster's own configuration: its data directory, its own spool and locks.
    restoreRoot = tempDir('restore');
    const user = osUser('postgres');
    for (const dir of ['spool', 'lock', 'log']) {
      mkdirSync(join(restoreRoot, dir));
      chownSync(join(restoreRoot, dir), user.uid, user.gid);
    }
    restored = await PgCluster.create();
    for (const name of readdirSync(restored.dataDir)) rmSync(join(restored.dataDir, name), { recursive: true, force: true });
    const config = join(restoreRoot, 'pgbackrest.conf');
    writeFileSync(
      config,
      [
        '[global]',
        `repo1-path=${stanza.repoPath}`,
        `lock-path=${join(restoreRoot, 'lock')}`,
        `log-path=${join(restoreRoot, 'log')}`,
        `spool-path=${join(restoreRoot, 'spool')}`,
        'log-level-file=detail',
        'archive-async=y',
        'archive-get-queue-max=64MiB',
        'process-max=2',
        '',
        '[main]',
        `pg1-path=${restored.dataDir}`,
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    await stanza.pgbackrest([
      'restore',
      `--pg1-path=${restored.dataDir}`,
      `--recovery-option=restore_command=${pgkeepBin()} --config=${config} --stanza=main archive-get %f "%p"`,
    ]);
    restored.configure({
      port: restored.port,
      unix_socket_directories: `'${restored.socketDir}'`,
      listen_addresses: "''",
      archive_mode: 'off',
    });
    await restored.start();
    for (let attempt = 0; attempt < 1200; attempt++) {
      const inRecovery = await restored.value('SELECT pg_is_in_recovery()').catch(() => true);
      if (inRecovery === false) break;
      await sleep(100);
    }
  });
  afterAll(async () => {
    await restored?.destroy();
    await source?.destroy();
  });

  it('recovered everything the source wrote', async () => {
    expect(await restored.value('SELECT pg_is_in_recovery()')).toBe(false);
    expect(await digest(restored)).toBe(expected);
  });

  it('served the segments from the prefetch queue, fetched ahead in the background', () => {
    const serverLog = readFileSync(restored.logFile, 'utf8');
    const restoredFiles = [...serverLog.matchAll(/restored log file "([0-9A-F]{24})" from archive/g)].map((match) => match[1]);
    expect(restoredFiles.length).toBeGreaterThan(3);
    const asyncLog = readFileSync(join(restoreRoot, 'log', 'main-archive-get-async.log'), 'utf8');
    expect(asyncLog).toMatch(/get \d+ WAL file\(s\) from archive: [0-9A-F]{24}\.\.\.[0-9A-F]{24}/);
    for (const segment of restoredFiles) expect(asyncLog).toContain(`found ${segment} in the repo1: 15-1 archive`);
    // the end of the archive was found by the background process: an .ok for the first missing segment
    expect(asyncLog).toMatch(/unable to find [0-9A-F]{24} in the archive/);
  });
});
