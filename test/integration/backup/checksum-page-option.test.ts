import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PG_BIN } from '../../harness/pg-cluster.js';
import { run } from '../../harness/run.js';
import { TestStanza } from '../../harness/stanza.js';

/** checksum-page asked for on a cluster without data checksums: pgBackRest 2.45 warns and turns it off. */
describe('checksum-page on a cluster without data checksums', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.create({ start: false });
    await run(join(PG_BIN, 'pg_checksums'), ['--disable', '-D', stanza.cluster.dataDir], { user: 'postgres' });
    await stanza.cluster.start();
    await stanza.pgkeep(['stanza-create']);
    await stanza.cluster.pgbench(['-i', '-s', '1', '-q']);
  });
  afterAll(async () => stanza?.destroy());

  it('warns, backs up without page checks, and the backup is valid', async () => {
    const backup = await stanza.pgkeep(['--checksum-page', '--type=full', 'backup']);
    expect(backup.stderr).toContain(
      'WARN: checksum-page option set to true but checksums are not enabled on the cluster, resetting to false',
    );
    expect(backup.stderr).not.toContain('invalid page checksum');
    const [info] = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as [
      { backup: { label: string; error: boolean }[] },
    ];
    const { label, error } = info.backup.at(-1)!;
    expect(error).toBe(false);
    const manifest = readFileSync(join(stanza.repoPath, 'backup', 'main', label, 'backup.manifest'), 'utf8');
    expect(manifest).toContain('option-checksum-page=false');
    expect(manifest).not.toContain('"checksum-page"');
    expect((await stanza.pgbackrest(['--output=text', '--verbose', 'verify'])).stdout).toContain(
      `backup: ${label}, status: valid`,
    );
  });
});
