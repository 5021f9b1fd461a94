import { copyFileSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PgCluster } from '../../harness/pg-cluster.js';
import { TestStanza } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';

/**
 * stanza-create on a stanza that already has info files, as pgbackrest 2.45: one of a pair
 * missing is written from the other; an info file missing altogether is an error, never a new
 * empty one (a new backup.info would list none of the backups, and expire would then remove them
 * as unlisted); a stanza of another cluster, or info files that disagree, is 028.
 */
describe('stanza-create on an existing stanza', () => {
  let stanza: TestStanza;
  let other: PgCluster;
  let label: string;
  const backupDir = () => join(stanza.repoPath, 'backup', 'main');
  const archiveDir = () => join(stanza.repoPath, 'archive', 'main');

  beforeAll(async () => {
    stanza = await TestStanza.create();
    await stanza.pgkeep(['stanza-create']);
    await stanza.pgkeep(['backup', '--type=full']);
    label = (JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as { backup: { label: string }[] }[])[0]!
      .backup[0]!.label;
    other = await PgCluster.create({ fresh: true });
    await other.start();
  }, 120_000);
  afterAll(async () => {
    await other?.destroy();
    await stanza?.destroy();
  });

  const bothExit = (code: number, args: string[] = []) => stanza.bothExit(code, [...args, 'stanza-create']);

  it('backup.info.copy missing: written from backup.info', async () => {
    rmSync(join(backupDir(), 'backup.info.copy'));
    const output = await stanza.pgkeep(['--log-level-console=info', 'stanza-create']);
    expect(output.stdout).toContain(`${join(backupDir(), 'backup.info.copy')} was missing on repo1: written from`);
    expect(readFileSync(join(backupDir(), 'backup.info.copy'))).toEqual(readFileSync(join(backupDir(), 'backup.info')));
    expect((await stanza.pgkeep(['--log-level-console=info', 'stanza-create'])).stdout).toContain(
      "stanza 'main' already exists on repo1 and is valid",
    );
    rmSync(join(archiveDir(), 'archive.info'));
    await bothExit(0);
    expect(readFileSync(join(archiveDir(), 'archive.info'))).toEqual(readFileSync(join(archiveDir(), 'archive.info.copy')));
  });

  it('backup.info missing altogether: refused, and the backups stay listed once it is back', async () => {
    const aside = tempDir('info-aside');
    for (const name of ['backup.info', 'backup.info.copy']) renameSync(join(backupDir(), name), join(aside, name));
    try {
      const output = await bothExit(55);
      expect(output).toContain('ERROR: [055]: archive.info exists but backup.info is missing on repo1');
      expect(output).toContain('HINT: this may be a symptom of repository corruption');
      expect(existsSync(join(backupDir(), 'backup.info'))).toBe(false);
    } finally {
      for (const name of ['backup.info', 'backup.info.copy']) renameSync(join(aside, name), join(backupDir(), name));
    }
    expect((await stanza.pgkeep(['info'])).stdout).toContain(label);
  });

  it('a stanza of another cluster, and info files that name two clusters: 028 (stanza-upgrade too, saving nothing)', async () => {
    const otherConfig = { 'pg1-path': other.dataDir, 'pg1-socket-path': other.socketDir, 'pg1-port': String(other.port) };
    const overrides = Object.entries(otherConfig).map(([key, value]) => `--${key}=${value}`);
    const mismatch = await bothExit(28, overrides);
    expect(mismatch).toMatch(
      /stanza 'main' on repo1 already exists for version '15' and system-id '\d+', not for this cluster's/,
    );

    // archive.info of a stanza the other cluster made in another repository
    const otherRepo = tempDir('other-repo');
    await stanza.pgkeep(['stanza-create', `--repo1-path=${otherRepo}`, ...overrides]);
    const saved = tempDir('archive-info-saved');
    for (const name of ['archive.info', 'archive.info.copy']) {
      copyFileSync(join(archiveDir(), name), join(saved, name));
      copyFileSync(join(otherRepo, 'archive', 'main', name), join(archiveDir(), name));
    }
    try {
      const pair = await bothExit(28);
      expect(pair).toContain("backup info file and archive info file of stanza 'main' on repo1 do not match");
      // stanza-upgrade would make archive.info name this cluster as history id 2, beside backup.info's 1: refused, nothing saved
      const mixed = readFileSync(join(archiveDir(), 'archive.info'));
      const ours = await stanza.pgkeep(['stanza-upgrade'], { check: false });
      const theirs = await stanza.pgbackrest(['stanza-upgrade'], { check: false });
      expect({ ours: ours.code, theirs: theirs.code }).toEqual({ ours: 28, theirs: 28 });
      expect(ours.stderr).toContain('archive.info has history id 2');
      expect(readFileSync(join(archiveDir(), 'archive.info'))).toEqual(mixed);
    } finally {
      for (const name of ['archive.info', 'archive.info.copy']) copyFileSync(join(saved, name), join(archiveDir(), name));
    }
  });
});
