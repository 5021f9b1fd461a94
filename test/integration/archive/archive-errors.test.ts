import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PgCluster } from '../../harness/pg-cluster.js';
import { run } from '../../harness/run.js';
import { TestStanza } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';

/** Every file of a directory tree with the SHA-1 of its content: "nothing changed" is equality. */
function snapshot(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(root, path)] = createHash('sha1').update(readFileSync(path)).digest('hex');
    }
  };
  walk(root);
  return files;
}

describe('archive errors are clear and leave the repository as it was', () => {
  let stanza: TestStanza;
  let segmentDir: string;
  let archived: string; // name of an archived segment
  let walCopy: string; // its original bytes

  beforeAll(async () => {
    stanza = await TestStanza.create({ archiver: 'none', cluster: { settings: { wal_keep_size: "'1GB'" } } });
    await stanza.pgkeep(['stanza-create']);
    await stanza.cluster.query('CREATE TABLE t AS SELECT g FROM generate_series(1, 100000) g');
    archived = String(await stanza.cluster.value('SELECT pg_walfile_name(pg_current_wal_insert_lsn())'));
    await stanza.cluster.query('SELECT pg_switch_wal()');
    walCopy = join(tempDir('wal'), archived);
    copyFileSync(join(stanza.cluster.dataDir, 'pg_wal', archived), walCopy);
    chmodSync(walCopy, 0o644); // readable by postgres, which runs pgkeep
    await stanza.pgkeep(['archive-push', join(stanza.cluster.dataDir, 'pg_wal', archived)]);
    segmentDir = join(stanza.repoPath, 'archive', 'main', '15-1', archived.slice(0, 16));
  });
  afterAll(async () => stanza?.destroy());

  it('a relative WAL path given from outside pg1-path is refused, as pgbackrest: pg1-path is not the data directory of the cluster', async () => {
    // stanza.pgkeep and stanza.pgbackrest run in the stanza's directory, not in the data directory
    for (const args of [
      ['archive-get', archived, 'pg_wal/RECOVERYXLOG'],
      ['archive-push', `pg_wal/${archived}`],
    ])
      expect(await stanza.bothExit(32, args)).toContain(
        `PostgreSQL working directory '${stanza.root}' is not the same as option pg1-path '${stanza.cluster.dataDir}'`,
      );
    expect(existsSync(join(stanza.cluster.dataDir, 'pg_wal', 'RECOVERYXLOG'))).toBe(false);
    await stanza.bothExit(37, ['--reset-pg1-path', 'archive-get', archived, 'pg_wal/RECOVERYXLOG']);
    const missing = await stanza.pgkeep(
      [`--pg1-path=${join(stanza.root, 'nowhere')}`, 'archive-get', archived, 'pg_wal/RECOVERYXLOG'],
      {
        check: false,
      },
    );
    expect(missing).toMatchObject({ code: 73, stderr: expect.stringContaining("unable to find option 'pg1-path' path") });
  });

  it('an identical segment pushed again succeeds with a warning', async () => {
    const before = snapshot(stanza.repoPath);
    const result = await stanza.pgkeep(['archive-push', walCopy]);
    expect(result.stderr).toContain(`WARN: WAL file '${archived}' already exists in the repo1 archive with the same checksum`);
    expect(snapshot(stanza.repoPath)).toEqual(before);
  });

  it('a second cluster pushing into the same stanza is refused, naming both system ids', async () => {
    const other = await PgCluster.create({ fresh: true });
    try {
      await other.start();
      await other.query('SELECT pg_switch_wal()');
      const otherId = String(await other.value('SELECT system_identifier::text FROM pg_control_system()'));
      const ourId = String(await stanza.cluster.value('SELECT system_identifier::text FROM pg_control_system()'));
      const otherWal = join(
        other.dataDir,
        'pg_wal',
        readdirSync(join(other.dataDir, 'pg_wal')).find((name) => /^[0-9A-F]{24}$/.test(name))!,
      );
      const before = snapshot(stanza.repoPath);

      // the other cluster's own archive_command: its pg1-path, the same stanza
      const viaControl = await stanza.pgkeep([`--pg1-path=${other.dataDir}`, 'archive-push', otherWal], { check: false });
      expect(viaControl.code).toBe(44);
      expect(viaControl.stderr).toContain(
        `ERROR: [044]: PostgreSQL version '15' and system-id '${otherId}' does not match stanza 'main' on repo1, which has version '15' and system-id '${ourId}'`,
      );
      expect(viaControl.stderr).toContain('HINT:');

      // a stray WAL file of the other cluster handed to this cluster's archive_command
      const viaHeader = await stanza.pgkeep(['archive-push', otherWal], { check: false });
      expect(viaHeader.code).toBe(44);
      expect(viaHeader.stderr).toContain(
        `with version '15' and system-id '${otherId}' does not match stanza 'main' on repo1, which has version '15' and system-id '${ourId}'`,
      );

      expect(snapshot(stanza.repoPath)).toEqual(before);
    } finally {
      await other.destroy();
    }
  });

  it('a different segment under an archived name is refused and nothing is written', async () => {
    const impostor = join(tempDir('wal'), archived);
    const bytes = readFileSync(walCopy);
    bytes[bytes.length - 100] ^= 0xff; // same header, other content
    writeFileSync(impostor, bytes);
    const before = snapshot(stanza.repoPath);
    const result = await stanza.pgkeep(['archive-push', impostor], { check: false });
    expect(result.code).toBe(45);
    expect(result.stderr).toContain(
      `ERROR: [045]: WAL file '${archived}' already exists in the repo1 archive with a different checksum`,
    );
    expect(snapshot(stanza.repoPath)).toEqual(before);
  });

  it('a corrupted archived file never reaches PostgreSQL and stops recovery (exit code over 125)', async () => {
    const [stored] = readdirSync(segmentDir).filter((name) => name.startsWith(archived));
    const path = join(segmentDir, stored!);
    const good = readFileSync(path);
    try {
      // 1. damaged compressed bytes
      const damaged = Buffer.from(good);
      damaged[Math.floor(damaged.length / 2)] ^= 0x55;
      writeFileSync(path, damaged);
      const out = tempDir('get');
      const broken = await stanza.pgkeep(['archive-get', archived, join(out, 'RECOVERYXLOG')], { check: false });
      expect(broken.code).toBe(139);
      expect(broken.stderr).toContain(`ERROR: [139]: WAL file ${stored} in the archive`);
      expect(readdirSync(out)).toEqual([]);

      // 2. a valid lz4 file whose content is not the segment its name says
      const other = join(tempDir('wal'), 'other');
      writeFileSync(other, Buffer.alloc(16 * 1024 * 1024, 7));
      await run('lz4', ['-q', '-f', other, path]);
      const wrong = await stanza.pgkeep(['archive-get', archived, join(out, 'RECOVERYXLOG')], { check: false });
      expect(wrong.code).toBe(139);
      expect(wrong.stderr).toMatch(/has checksum [0-9a-f]{40}, not the [0-9a-f]{40} of its name/);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      writeFileSync(path, good);
    }
  });

  it('a stopped stanza refuses archive-push until started again', async () => {
    await stanza.pgkeep(['stop']);
    await stanza.cluster.query('INSERT INTO t SELECT 1');
    const next = String(await stanza.cluster.value('SELECT pg_walfile_name(pg_current_wal_insert_lsn())'));
    await stanza.cluster.query('SELECT pg_switch_wal()');
    const wal = join(stanza.cluster.dataDir, 'pg_wal', next);
    const before = snapshot(stanza.repoPath);
    const stopped = await stanza.pgkeep(['archive-push', wal], { check: false });
    expect(stopped.code).toBe(62);
    expect(stopped.stderr).toContain('ERROR: [062]: stop file exists for stanza main');
    expect(snapshot(stanza.repoPath)).toEqual(before);
    await stanza.pgkeep(['start']);
    await stanza.pgkeep(['archive-push', wal]);
    expect(readdirSync(segmentDir).some((name) => name.startsWith(next))).toBe(true);
  });

  it('archive.info missing or corrupted: the .copy is used; both bad is an error naming both', async () => {
    const info = join(stanza.repoPath, 'archive', 'main', 'archive.info');
    const good = readFileSync(info);
    try {
      rmSync(info);
      const missing = await stanza.pgkeep(['archive-push', walCopy]);
      expect(missing.stderr).toMatch(/WARN: info file '.*archive\.info' is not usable .*loaded '.*archive\.info\.copy' instead/);

      writeFileSync(info, good.toString().replace('"15"', '"14"'));
      const corrupted = await stanza.pgkeep(['archive-push', walCopy]);
      expect(corrupted.stderr).toMatch(/WARN: info file '.*archive\.info' is not usable \(.*checksum/);

      const copy = `${info}.copy`;
      const goodCopy = readFileSync(copy);
      rmSync(copy);
      const before = snapshot(stanza.repoPath);
      const both = await stanza.pgkeep(['archive-push', walCopy], { check: false });
      expect(both.code).not.toBe(0);
      expect(both.stderr).toContain(`unable to load info file '${info}' or '${info}.copy'`);
      expect(snapshot(stanza.repoPath)).toEqual(before);
      writeFileSync(copy, goodCopy);
    } finally {
      writeFileSync(info, good);
    }
    expect(existsSync(info)).toBe(true);
  });
});
