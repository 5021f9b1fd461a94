import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { osUser } from '../../harness/os-user.js';
import { PgCluster } from '../../harness/pg-cluster.js';
import { pgkeepBin, TestStanza } from '../../harness/stanza.js';

/**
 * stanza-create, stanza-upgrade, stanza-delete and info on a real repository, the real pgbackrest
 * as the oracle. The "upgrade" replaces the cluster with a new one (a new system identifier: only
 * PostgreSQL 15 is installed here), which is what stanza-upgrade records, as after pg_upgrade.
 */
describe('stanza-upgrade and stanza-delete', () => {
  let stanza: TestStanza;
  let upgraded: PgCluster;

  beforeAll(async () => {
    stanza = await TestStanza.create();
    await stanza.pgkeep(['stanza-create']);
    // An incremental with no backup to build on becomes a full one, with a warning.
    const first = await stanza.pgkeep(['--type=incr', 'backup']);
    expect(first.stdout + first.stderr).toContain('WARN: no prior backup exists, incr backup has been changed to full');
  });
  afterAll(async () => {
    await upgraded?.destroy();
    await stanza?.destroy();
  });

  it('stanza-create refuses the new cluster, stanza-upgrade records it; pgbackrest then checks and lists it', async () => {
    const oldSystemId = String(await stanza.cluster.value('SELECT system_identifier FROM pg_control_system()'));
    // stanza-create again on a valid stanza changes nothing.
    const recreated = await stanza.pgkeep(['--log-level-console=info', 'stanza-create']);
    expect(recreated.stdout).toContain(`stanza 'main' already exists on repo1 and is valid`);
    await stanza.cluster.stop();
    upgraded = await PgCluster.create({
      fresh: true,
      archiveCommand: `${pgkeepBin()} --config=${stanza.configPath} --stanza=main archive-push %p`,
    });
    await upgraded.start();
    stanza.writeConfig(undefined, undefined, upgraded);
    const newSystemId = String(await upgraded.value('SELECT system_identifier FROM pg_control_system()'));
    expect(newSystemId).not.toBe(oldSystemId);

    // Before the upgrade the repository belongs to the old cluster: a backup is refused.
    const refused = await stanza.pgkeep(['--type=full', 'backup'], { check: false });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(newSystemId);
    // So is stanza-create: the stanza is the old cluster's.
    const mismatch = await stanza.pgkeep(['stanza-create'], { check: false });
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toContain(`stanza 'main' on repo1 already exists for`);
    expect(mismatch.stderr).toContain('HINT: each cluster needs a stanza of its own: choose another stanza name');

    const first = await stanza.pgkeep(['--log-level-console=info', 'stanza-upgrade']);
    expect(first.stdout).toContain(`stanza 'main' on repo1 upgraded to`);
    const again = await stanza.pgkeep(['--log-level-console=info', 'stanza-upgrade']);
    expect(again.stdout).toContain(`stanza 'main' on repo1 is already up to date`);

    const archiveInfo = readFileSync(join(stanza.repoPath, 'archive', 'main', 'archive.info'), 'utf8');
    expect(archiveInfo).toContain(`2={"db-id":${newSystemId},"db-version":"15"}`);
    // The WAL of the new cluster reaches the archive (15-2), as pgbackrest check sees it.
    await stanza.pgbackrest(['check']);
    const infoJson = (await stanza.pgbackrest(['info', '--output=json'])).stdout;
    expect((JSON.parse(infoJson) as [{ status: { code: number } }])[0].status.code).toBe(0);
    // System ids pass 2^53: read from the text, not through JSON numbers.
    const dbList = /"db":\[(.*?)\]/.exec(infoJson)![1]!;
    expect([...dbList.matchAll(/"id":(\d+),.*?"system-id":(\d+)/g)].map((match) => [match[1], match[2]])).toEqual([
      ['1', oldSystemId],
      ['2', newSystemId],
    ]);
    // And a backup of the new cluster is taken, and verified by pgbackrest.
    // A diff of the new cluster never builds on the old one's full backup: it becomes a full one.
    const diff = await stanza.pgkeep(['--type=diff', 'backup']);
    expect(diff.stdout + diff.stderr).toContain('WARN: no prior backup exists, diff backup has been changed to full');
    await stanza.pgbackrest(['verify']);
    // info, text and JSON, as pgbackrest's: both clusters, the prior one with its backup and WAL.
    expect((await stanza.pgbackrest(['info'])).stdout.match(/full backup: \S+F\n/g)).toHaveLength(2);
    const [, label] = /full backup: (\S+)\n(?![\s\S]*full backup:)/.exec((await stanza.pgbackrest(['info'])).stdout)!;
    for (const output of [[], ['--output=json'], [`--set=${label}`]]) {
      const ours = (await stanza.pgkeep([...output, 'info'])).stdout;
      expect(ours).toContain(output[0] === '--output=json' ? '"id":2' : 'db (current)');
      // (pgbackrest ends its JSON without a newline; pgkeep ends it with one, for terminals.)
      expect(ours.trimEnd()).toBe((await stanza.pgbackrest([...output, 'info'])).stdout.trimEnd());
    }
  });

  it('info over two repositories, the second without the stanza, then with its directories but no info files, prints what pgbackrest prints; stanza-create writes nothing over files left there', async () => {
    const repo2 = join(stanza.root, 'repo2');
    mkdirSync(repo2, { mode: 0o750 });
    chownSync(repo2, osUser('postgres').uid, osUser('postgres').gid);
    stanza.writeConfig({ 'compress-type': 'lz4', 'repo2-path': repo2 }, undefined, upgraded);
    const compare = async () => {
      for (const output of [[], ['--output=json']]) {
        const ours = (await stanza.pgkeep([...output, 'info'])).stdout;
        expect(ours.trimEnd()).toBe((await stanza.pgbackrest([...output, 'info'])).stdout.trimEnd());
      }
      return (await stanza.pgkeep(['info'])).stdout;
    };
    expect(await compare()).toContain('repo2: error (missing stanza path)');
    // A stanza directory whose info files are not there: missing stanza data.
    mkdirSync(join(repo2, 'backup', 'main'), { recursive: true, mode: 0o750 });
    mkdirSync(join(repo2, 'archive', 'main'), { recursive: true, mode: 0o750 });
    execFileSync('chown', ['-R', 'postgres:postgres', repo2]);
    expect(await compare()).toContain('repo2: error (missing stanza data)');
    // Files there but no info files: stanza-create writes nothing over them.
    writeFileSync(join(repo2, 'archive', 'main', 'left-behind'), '');
    const leftovers = await stanza.pgkeep(['stanza-create'], { check: false });
    expect(leftovers.code).not.toBe(0);
    expect(leftovers.stderr).toContain(`'${join(repo2, 'archive', 'main')}' on repo2 holds files but no info files`);
    expect(readdirSync(join(repo2, 'archive', 'main'))).toEqual(['left-behind']);
    stanza.writeConfig(undefined, undefined, upgraded);
  });

  it('stanza-delete needs the stanza stopped and the cluster down (or --force), then removes it all', async () => {
    const notStopped = await stanza.pgkeep(['stanza-delete'], { check: false });
    expect(notStopped.code).not.toBe(0);
    expect(notStopped.stderr).toContain(`stop file does not exist for stanza 'main'`);
    expect(notStopped.stderr).toContain(`HINT: run 'pgkeep stop --stanza=main' on this host first`);

    await stanza.pgkeep(['stop']);
    const running = await stanza.pgkeep(['stanza-delete'], { check: false });
    expect(running.code).not.toBe(0);
    expect(running.stderr).toContain(`PostgreSQL is running on '${upgraded.dataDir}' (postmaster.pid exists)`);
    expect(existsSync(join(stanza.repoPath, 'backup', 'main', 'backup.info'))).toBe(true);

    await stanza.pgkeep(['stanza-delete', '--force']);
    for (const path of ['archive/main', 'backup/main']) expect(existsSync(join(stanza.repoPath, path)), path).toBe(false);
    expect(existsSync(join(stanza.lockPath, 'main.stop'))).toBe(false);
    const info = JSON.parse((await stanza.pgbackrest(['info', '--output=json'])).stdout) as [{ status: { message: string } }];
    expect(info[0].status.message).toBe('missing stanza path');
    expect((await stanza.pgkeep(['info'])).stdout).toBe((await stanza.pgbackrest(['info'])).stdout);
  });
});
