import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { osUser } from '../../harness/os-user.js';

import { run } from '../../harness/run.js';
import { RunningBackup } from '../../harness/running-backup.js';
import { pgkeepBin, TestStanza } from '../../harness/stanza.js';

/** The warnings a command printed, without their timestamps. */
const warnings = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('WARN: '));

describe('stop and start', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(10, { global: { 'process-max': 1 } });
  });
  afterAll(async () => stanza?.destroy());

  it('warn as pgbackrest does when there is nothing to do', async () => {
    await stanza.pgkeep(['stop']);
    const ours = await stanza.pgkeep(['stop']);
    const theirs = await stanza.pgbackrest(['stop']);
    expect(warnings(ours.stderr)).toEqual(['WARN: stop file already exists for stanza main']);
    expect(warnings(ours.stderr)).toEqual(warnings(theirs.stderr));

    await stanza.pgkeep(['start']);
    const again = await stanza.pgkeep(['start']);
    expect(warnings(again.stderr)).toEqual(['WARN: stop file does not exist for stanza main']);
    expect(warnings(again.stderr)).toEqual(warnings((await stanza.pgbackrest(['start'])).stderr));
  });

  // With --stanza the stanza's lock holders are signalled; without, those of every stanza.
  it.each([
    { scope: 'the stanza', args: ['--stanza=main'], refusal: 'stop file exists for stanza main', backups: 1 },
    { scope: 'all stanzas', args: [], refusal: 'stop file exists for all stanzas', backups: 2 },
  ])(
    'stop --force for $scope ends a running backup; nothing runs until start; the next backup resumes it',
    async ({ args, refusal, backups }) => {
      const control = (command: string, extra: string[] = []) =>
        run(pgkeepBin(), [`--config=${stanza.configPath}`, ...args, ...extra, command], {
          user: 'postgres',
          cwd: stanza.root,
          env: { PATH: process.env.PATH },
        });
      const backup = new RunningBackup(stanza, ['--type=full']);
      await backup.until('it started copying', () => backup.copying());

      const stop = await control('stop', ['--force', '--log-level-console=info']);
      expect(stop.stdout).toContain(`INFO: sent term signal to process ${backup.pid}\n`);
      expect(await backup.exited).not.toBe(0);
      expect(backup.stderr).toContain('ERROR: [063]: terminated on signal [SIGTERM]\n');

      const refused = await stanza.pgkeep(['--type=full', 'backup'], { check: false });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(refusal);

      await control('start');
      const resumed = await stanza.pgkeep(['--type=full', 'backup']);
      expect(resumed.stderr).toMatch(/WARN: resumable backup \S+F of same type exists/);
      const [info] = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as [{ backup: unknown[] }];
      expect(info.backup).toHaveLength(backups);
    },
  );

  it('stop --force passes over a lock file whose process is gone (kill -9), without a warning', async () => {
    const dead = spawnSync('true').pid!;
    const lockFile = join(stanza.lockPath, 'main-backup.lock');
    writeFileSync(lockFile, JSON.stringify({ execId: `${dead}-0badc0de`, pid: dead }));
    chownSync(lockFile, osUser().uid, osUser().gid);

    const stop = await stanza.pgkeep(['stop', '--force', '--log-level-console=info']);
    expect(warnings(stop.stderr)).toEqual([]);
    expect(stop.stdout).not.toContain('term signal');
    expect(existsSync(lockFile)).toBe(true); // taken over by the next process that locks
    await stanza.pgkeep(['start']);
    await stanza.pgkeep(['--type=incr', 'backup']);
    expect(existsSync(lockFile)).toBe(false);
  });
});
