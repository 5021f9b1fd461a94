import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PgCluster } from '../../harness/pg-cluster.js';
import { pgkeepBin, TestStanza } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';

/**
 * `check` and `backup` when archiving is not set up for the stanza: each way it can be wrong fails
 * with the error (and exit code) pgbackrest 2.45 gives, with pgkeep's hint, a backup before it
 * copies anything. --no-archive-check skips the settings, not the archiving: check still waits
 * for its segment, as pgbackrest's does.
 */
describe('check refuses archiving that cannot work, as pgbackrest does', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.create();
    await stanza.pgkeep(['stanza-create']);
  }, 60_000);
  afterAll(async () => stanza?.destroy());

  /** Sets archive_command and waits until new sessions see it. */
  async function archiveCommand(command: string): Promise<void> {
    stanza.cluster.configure({ archive_command: `'${command}'` });
    await stanza.cluster.query('SELECT pg_reload_conf()');
    for (let tries = 0; (await stanza.cluster.value('SHOW archive_command')) !== command; tries++) {
      if (tries === 100) throw new Error(`archive_command is not '${command}' after the reload`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const restart = async (settings: Record<string, string>) => {
    stanza.cluster.configure(settings);
    await stanza.cluster.stop();
    await stanza.cluster.start();
  };
  /** Both tools exit with this code; pgkeep's output is returned. */
  const bothFail = (code: number, args: string[], command = 'check') => stanza.bothExit(code, [...args, command]);
  const working = () => `${pgkeepBin()} --config=${stanza.configPath} --stanza=main archive-push %p`;

  it('an archive_command that runs neither tool', async () => {
    await archiveCommand('/bin/true %p');
    const ours = await bothFail(68, []);
    expect(ours).toContain("archive_command '/bin/true %p' must contain pgkeep");
    expect(ours).toContain("HINT: set archive_command = 'pgkeep --stanza=main archive-push %p' and reload PostgreSQL");

    // A backup fails the same way, before it copies anything
    await bothFail(68, ['--type=full'], 'backup');
    expect(existsSync(join(stanza.repoPath, 'backup', 'main', 'latest'))).toBe(false);

    // --no-archive-check: the settings are not checked, but the segment still never arrives
    await bothFail(82, ['--no-archive-check', '--archive-timeout=1']);
  });

  it('an archive_command that fails: the segment never arrives', async () => {
    // Names both tools (each looks for its own name) and archives nothing.
    await archiveCommand('false pgkeep pgbackrest %p');
    const ours = await bothFail(82, ['--archive-timeout=1']);
    expect(ours).toMatch(/WAL segment [0-9A-F]{24} was not archived to repo1 before the 1000ms timeout/);
    expect(ours).toContain('HINT: check that archive_command names this stanza');
  });

  it('archive_mode always, unless archive-mode-check is off', async () => {
    await archiveCommand(working());
    await restart({ archive_mode: 'always' });
    const ours = await bothFail(67, []);
    expect(ours).toContain('archive_mode=always not supported');
    expect(ours).toContain('HINT: set archive_mode = on, or archive-mode-check=n');
    await bothFail(0, ['--no-archive-mode-check']);
  });

  it('archive_mode off', async () => {
    await restart({ archive_mode: 'off' });
    const ours = await bothFail(87, []);
    expect(ours).toContain('archive_mode must be enabled');
    expect(ours).toContain('HINT: set archive_mode = on in postgresql.conf and restart PostgreSQL');
    await bothFail(87, ['--type=full'], 'backup');
  });
});

/**
 * `check` of a stanza that is not the cluster's, or whose two info files disagree: 028, as
 * pgbackrest 2.45 (a bad repository for check, where archive-push and backup refuse with their own
 * codes); the cluster's own settings are checked before the repository, as pgbackrest does.
 */
describe('check of a stanza that does not match', () => {
  let stanza: TestStanza;
  let other: PgCluster;
  beforeAll(async () => {
    stanza = await TestStanza.create();
    await stanza.pgkeep(['stanza-create']);
    // Names both tools, as each one's check wants; never archives (nothing here waits for it).
    other = await PgCluster.create({ fresh: true, archiveCommand: '/bin/false pgkeep pgbackrest %p' });
    await other.start();
  }, 60_000);
  afterAll(async () => {
    await other?.destroy();
    await stanza?.destroy();
  });

  const bothFail = (code: number) => stanza.bothExit(code, ['check']);

  it('another cluster: its archiving settings first, then the stanza', async () => {
    stanza.writeConfig(undefined, {}, other);
    await other.query('ALTER SYSTEM SET archive_mode = off');
    await other.stop();
    await other.start();
    await bothFail(87);
    await other.query('ALTER SYSTEM RESET archive_mode');
    await other.stop();
    await other.start();
    const stderr = await bothFail(28);
    expect(stderr).toMatch(
      /ERROR: \[028\]: PostgreSQL version '15' and system-id '\d+' does not match stanza 'main' on repo1, which has/,
    );
  });

  it("archive.info of another cluster's stanza beside this stanza's backup.info", async () => {
    stanza.writeConfig();
    const otherRepo = tempDir('other-repo');
    await stanza.pgkeep([
      'stanza-create',
      `--repo1-path=${otherRepo}`,
      `--pg1-path=${other.dataDir}`,
      `--pg1-socket-path=${other.socketDir}`,
      `--pg1-port=${other.port}`,
    ]);
    for (const name of ['archive.info', 'archive.info.copy'])
      copyFileSync(`${otherRepo}/archive/main/${name}`, `${stanza.repoPath}/archive/main/${name}`);
    const stderr = await bothFail(28);
    expect(stderr).toContain(
      "backup info file and archive info file of stanza 'main' on repo1 do not match: archive.info has history id 1",
    );
    expect(stderr).toContain('HINT: this may be a symptom of repository corruption');
  });
});
