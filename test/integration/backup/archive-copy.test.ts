import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStanza } from '../../harness/stanza.js';

/** archive-copy stores the WAL a backup needs inside the backup, as pgBackRest does. */
describe('backup with archive-copy', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(1);
  });
  afterAll(async () => stanza?.destroy());

  it('records the segments from archive start to stop in pg_data/pg_wal, valid for pgbackrest verify', async () => {
    const result = await stanza.pgkeep(['--output=json', '--type=full', '--archive-copy', 'backup']);
    const label = (JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { label: string }).label;
    const manifest = readFileSync(join(stanza.repoPath, 'backup', 'main', label, 'backup.manifest'), 'utf8');
    const start = /^backup-archive-start="(\w+)"$/m.exec(manifest)![1]!;
    expect(manifest).toMatch(/^option-archive-copy=true$/m);
    expect(manifest).toMatch(
      new RegExp(
        `^pg_data/pg_wal/${start}=\\{"checksum":"[0-9a-f]{40}","rck":"[0-9a-f]{40}","repo-size":\\d+,"size":16777216,`,
        'm',
      ),
    );
    const verify = await stanza.pgbackrest(['--output=text', '--verbose', 'verify']);
    expect(verify.stdout).toMatch(new RegExp(`backup: ${label}, status: valid`));
  });
});
