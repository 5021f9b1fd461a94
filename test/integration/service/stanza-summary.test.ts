import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseCommandLine } from '../../../engine/config/command-line.js';
import { resolveConfig } from '../../../engine/config/resolve.js';
import { stanzaSummary } from '../../../engine/service/stanza-summary.js';
import { TestStanza } from '../../harness/stanza.js';

interface Archiver extends Record<string, unknown> {
  failed_count: string;
  last_failed_wal: string | null;
  failing: boolean;
}

/**
 * The dashboard's judgement of archiving comes from PostgreSQL's pg_stat_archiver: a real cluster
 * whose archive_command starts failing, then works again.
 */
describe('stanza summary with a real cluster', () => {
  let stanza: TestStanza;

  const summary = () =>
    stanzaSummary(
      resolveConfig({
        command: 'check',
        commandLine: parseCommandLine([`--config=${stanza.configPath}`, '--stanza=main', 'check']),
        env: {},
      }),
      { overdueHours: 26 },
    );
  const archiver = async () =>
    (
      await stanza.cluster.query<Archiver>(
        'SELECT failed_count::text, last_failed_wal,' +
          ' coalesce(last_failed_time > coalesce(last_archived_time, last_failed_time - interval $$1s$$), false) AS failing' +
          ' FROM pg_stat_archiver',
      )
    )[0]!;
  /** Writes a little and switches WAL, so the archiver has a segment to archive. */
  const switchWal = async () => {
    await stanza.cluster.query('CREATE TABLE IF NOT EXISTS t (n int); INSERT INTO t VALUES (1)');
    return String(await stanza.cluster.value('SELECT pg_walfile_name(pg_switch_wal())'));
  };
  const setArchiveCommand = async (command: string | undefined) => {
    await stanza.cluster.query(
      command === undefined ? 'ALTER SYSTEM RESET archive_command' : `ALTER SYSTEM SET archive_command = '${command}'`,
    );
    await stanza.cluster.query('SELECT pg_reload_conf()');
  };
  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    for (let tries = 0; tries < 600; tries++) {
      const value = await probe();
      if (value !== undefined) return value;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  beforeAll(async () => {
    stanza = await TestStanza.create();
    // The test process runs as root; PostgreSQL's role is postgres.
    stanza.writeConfig(undefined, { 'pg1-user': 'postgres' });
    await stanza.pgkeep(['stanza-create']);
    await stanza.pgkeep(['--type=full', 'backup']);
  });
  afterAll(async () => {
    await stanza?.destroy();
  });

  it('archiving that works: the archiver statistics are shown and nothing is wrong', async () => {
    const result = await summary();
    expect(result.health).toBe('ok');
    expect(result.problems).toEqual([]);
    expect(result.archive.archiver).toMatchObject({ failedCount: 0, lastFailedWal: null });
    expect(result.archive.archiver!.archivedCount).toBeGreaterThan(0);
    // The backup's last segment, or the backup history file PostgreSQL archives beside it.
    const last = result.archive.archiver!.lastArchivedWal!;
    expect(last).toMatch(/^[0-9A-F]{24}(\.[0-9A-F]{8}\.backup)?$/);
    expect(last.slice(0, 24) <= result.archive.maxWal!).toBe(true);
  });

  it('archiving that fails is an error naming the segment; once it works again the error is gone', async () => {
    await setArchiveCommand('/bin/false');
    const segment = await switchWal();
    const failing = await waitFor('a failed archive attempt', async () => {
      const row = await archiver();
      return Number(row.failed_count) > 0 && row.failing ? row : undefined;
    });
    expect(failing.last_failed_wal).toBe(segment);

    const broken = await summary();
    expect(broken.health).toBe('error');
    const problem = broken.problems.find((entry) => entry.kind === 'archive-failing');
    expect(problem).toEqual({
      kind: 'archive-failing',
      severity: 'error',
      message: `WAL archiving is failing: ${broken.archive.archiver!.failedCount} failures, the last for ${segment}`,
      hint: "read the PostgreSQL log for archive_command errors and run 'pgkeep check'; WAL piles up in pg_wal until archiving works",
    });
    expect(broken.archive.archiver!.failedCount).toBeGreaterThanOrEqual(Number(failing.failed_count));

    // The configuration file's archive_command (pgkeep's) again: the reload wakes the archiver.
    await setArchiveCommand(undefined);
    await waitFor('the segment to be archived', async () => ((await archiver()).failing ? undefined : true));
    const mended = await summary();
    expect(mended.problems).toEqual([]);
    expect(mended.health).toBe('ok');
    expect(mended.archive.archiver!.lastArchivedWal).toBe(segment);
    expect(mended.archive.maxWal).toBe(segment);
  });
});
