import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStanza } from '../../harness/stanza.js';

/**
 * A backup checks that archiving works as soon as it starts (the segment written before the
 * start must reach the archive within archive-timeout), beside its copy: with archiving broken
 * it fails on that segment, not after copying everything and waiting for the last one.
 */
describe('the archive check at the start of a backup', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(5, { global: { 'process-max': 1 } });
    // Set up for pgkeep by its settings (the name is there: backup's first check passes), archiving nothing.
    await stanza.cluster.query("ALTER SYSTEM SET archive_command = '/bin/false pgkeep %p'");
    await stanza.cluster.query('SELECT pg_reload_conf()');
  });
  afterAll(async () => stanza?.destroy());

  it('fails the backup on the first segment when archiving is broken, and records nothing', async () => {
    const result = await stanza.pgkeep(['--archive-timeout=3', '--log-level-console=info', '--type=full', 'backup'], {
      check: false,
    });
    expect(result.code).not.toBe(0);
    const check = /INFO: check archive for (?:prior )?segment ([0-9A-F]{24})\n/.exec(result.stdout + result.stderr);
    expect(check, result.stdout + result.stderr).not.toBeNull();
    expect(result.stderr).toContain(`ERROR: [082]: WAL segment ${check![1]} was not archived before the 3000ms timeout`);
    expect(result.stdout + result.stderr).not.toContain('execute non-exclusive backup stop');
    const [info] = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as [{ backup: unknown[] }];
    expect(info.backup).toEqual([]);

    // Archiving mended, the next backup goes through and resumes nothing it should not.
    await stanza.cluster.query('ALTER SYSTEM RESET archive_command');
    await stanza.cluster.query('SELECT pg_reload_conf()');
    await stanza.pgkeep(['--type=full', 'backup']);
    const [after] = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as [{ backup: unknown[] }];
    expect(after.backup).toHaveLength(1);
  });
});
