import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStanza } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';

const sha1 = (path: string) => createHash('sha1').update(readFileSync(path)).digest('hex');

/**
 * The reverse: WAL pushed by the real pgbackrest with each compression it writes is read back by
 * pgkeep archive-get byte for byte; and the info files pgkeep writes are byte-identical to the ones
 * pgbackrest writes for the same cluster.
 */
describe('a repository written by pgbackrest', () => {
  let stanza: TestStanza;
  const pushed: { segment: string; original: string; compress: string }[] = [];

  beforeAll(async () => {
    stanza = await TestStanza.create({ archiver: 'none', cluster: { settings: { wal_keep_size: "'1GB'" } } });
    await stanza.pgbackrest(['stanza-create']);
    await stanza.cluster.query('CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200000) g');
    for (const compress of ['lz4', 'gz', 'zst', 'none']) {
      await stanza.cluster.query('INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 50000) g');
      const segment = String(await stanza.cluster.value('SELECT pg_walfile_name(pg_current_wal_insert_lsn())'));
      await stanza.cluster.query('SELECT pg_switch_wal()');
      const original = join(stanza.cluster.dataDir, 'pg_wal', segment);
      await stanza.pgbackrest([`--compress-type=${compress}`, 'archive-push', original]);
      pushed.push({ segment, original, compress });
    }
  });
  afterAll(async () => stanza?.destroy());

  it('stores each compression as pgBackRest does', () => {
    const dir = join(stanza.repoPath, 'archive', 'main', '15-1', '0000000100000000');
    const names = readdirSync(dir);
    for (const { segment, compress } of pushed) {
      const ext = compress === 'none' ? '' : `.${compress}`;
      expect(
        names.some((name) => name.startsWith(`${segment}-`) && name.endsWith(ext) && name.length === 24 + 41 + ext.length),
        compress,
      ).toBe(true);
    }
  });

  it.each(['lz4', 'gz', 'zst', 'none'])('pgkeep archive-get reads %s byte-identical', async (compress) => {
    const { segment, original } = pushed.find((entry) => entry.compress === compress)!;
    const out = tempDir('get');
    await stanza.pgkeep(['archive-get', segment, join(out, 'RECOVERYXLOG')]);
    expect(sha1(join(out, 'RECOVERYXLOG'))).toBe(sha1(original));
  });

  it('pgkeep exits 1 for a segment that is not in the archive, writing nothing', async () => {
    const out = tempDir('get');
    const result = await stanza.pgkeep(
      ['--log-level-console=info', 'archive-get', '0000000100000000000000FF', join(out, 'RECOVERYXLOG')],
      { check: false },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('unable to find 0000000100000000000000FF in the archive');
    expect(readdirSync(out)).toEqual([]);
  });

  it('pgkeep writes archive.info and backup.info byte-identical to pgbackrest for the same cluster', async () => {
    const ours = await TestStanza.create({ archiver: 'none', start: false });
    try {
      // the same cluster (a copy of the same data directory) for both tools
      ours.writeConfig(undefined, {});
      const theirsFiles = [
        'archive/main/archive.info',
        'archive/main/archive.info.copy',
        'backup/main/backup.info',
        'backup/main/backup.info.copy',
      ];
      await ours.cluster.start();
      await ours.pgkeep(['stanza-create']);
      await ours.pgbackrest(['--repo1-path=' + join(ours.root, 'repo-pgbackrest'), 'stanza-create']);
      for (const file of theirsFiles) {
        expect(readFileSync(join(ours.repoPath, file), 'utf8'), file).toBe(
          readFileSync(join(ours.root, 'repo-pgbackrest', file), 'utf8'),
        );
      }
    } finally {
      await ours.destroy();
    }
  });
});
