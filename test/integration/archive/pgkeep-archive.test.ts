import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { run } from '../../harness/run.js';
import { pgkeepBin, TestStanza } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';

const sha1 = (path: string) => createHash('sha1').update(readFileSync(path)).digest('hex');

/**
 * A cluster archiving through `archive_command = pgkeep archive-push %p` for a few hundred MB of
 * WAL: the real pgbackrest reads that repository (info, verify, archive-get) and every segment it
 * returns is byte-identical to what PostgreSQL handed to archive_command.
 */
describe.each(['lz4', 'gz'])('WAL archived by pgkeep with compress-type=%s, read by pgbackrest', (compressType) => {
  let stanza: TestStanza;
  let originals: string;

  beforeAll(async () => {
    originals = tempDir('wal-originals');
    // archive_command keeps a copy of what PostgreSQL gives it, to compare bytes afterwards
    stanza = await TestStanza.create({ archiver: 'none', global: { 'compress-type': compressType }, start: false });
    stanza.cluster.configure({
      archive_mode: 'on',
      archive_command: `'cp %p ${originals}/%f && ${pgkeepBin()} --config=${stanza.configPath} --stanza=main archive-push %p'`,
      max_wal_size: "'64MB'",
    });
    await stanza.cluster.start();
    await stanza.pgkeep(['stanza-create']);
    await stanza.cluster.pgbench(['-i', '-s', '20', '-q']); // ~300 MB of WAL
    await stanza.pgkeep(['check']); // switches WAL and waits for it: everything before is archived
  });
  afterAll(async () => stanza?.destroy());

  it('archives every segment PostgreSQL produced', async () => {
    const segments = readdirSync(originals).filter((name) => /^[0-9A-F]{24}$/.test(name));
    expect(segments.length).toBeGreaterThan(12); // a few hundred MB
    const archived = await run('find', [join(stanza.repoPath, 'archive'), '-name', `*.${compressType}`]);
    expect(archived.stdout.trim().split('\n').length).toBe(segments.length);
  });

  it('pgbackrest info and verify accept the repository', async () => {
    const info = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout);
    const segments = readdirSync(originals)
      .filter((name) => /^[0-9A-F]{24}$/.test(name))
      .sort();
    expect(info[0].archive[0]).toMatchObject({ id: '15-1', min: segments[0], max: segments.at(-1) });
    const verify = await stanza.pgbackrest(['--output=text', '--verbose', 'verify']);
    expect(verify.stdout).toMatch(/archiveId: 15-1, total WAL checked: \d+, total valid WAL: \d+/);
    const [, checked, valid] = /total WAL checked: (\d+), total valid WAL: (\d+)/.exec(verify.stdout)!;
    expect(Number(valid)).toBe(Number(checked));
    expect(Number(checked)).toBe(segments.length);
    expect(verify.stdout).toMatch(/status: ok/);
    expect(verify.stdout).toContain('missing: 0, checksum invalid: 0, size invalid: 0, other: 0');
  });

  it('pgbackrest archive-get returns every segment byte-identical to the original', async () => {
    const out = tempDir('archive-get');
    for (const segment of readdirSync(originals).filter((name) => /^[0-9A-F]{24}$/.test(name))) {
      await stanza.pgbackrest(['archive-get', segment, join(out, segment)]);
      expect(sha1(join(out, segment)), segment).toBe(sha1(join(originals, segment)));
    }
  });

  it('pgkeep archive-get returns every segment byte-identical too', async () => {
    const out = tempDir('pgkeep-get');
    for (const segment of readdirSync(originals)
      .filter((name) => /^[0-9A-F]{24}$/.test(name))
      .slice(0, 5)) {
      await stanza.pgkeep(['archive-get', segment, join(out, segment)]);
      expect(sha1(join(out, segment)), segment).toBe(sha1(join(originals, segment)));
    }
  });
});
