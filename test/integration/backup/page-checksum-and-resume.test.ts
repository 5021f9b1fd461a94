import { spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decryptBuffer } from '../../../engine/filter/cipher.js';
import { osUser } from '../../harness/os-user.js';
import { PgCluster } from '../../harness/pg-cluster.js';
import { pgbenchState } from '../../harness/pgbench-state.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';
import { pgkeepBin, TestStanza } from '../../harness/stanza.js';

describe('page checksums', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.create();
    await stanza.pgkeep(['stanza-create']);
  });
  afterAll(async () => stanza?.destroy());

  it('a corrupted page is reported and recorded in the manifest without failing the backup', async () => {
    await stanza.cluster.query(
      'CREATE TABLE victim AS SELECT g AS id, repeat(md5(g::text), 4) AS v FROM generate_series(1, 20000) g',
    );
    // A small one too: files up to 256 KiB are copied by another path (read whole)
    await stanza.cluster.query(
      'CREATE TABLE small_victim AS SELECT g AS id, repeat(md5(g::text), 4) AS v FROM generate_series(1, 200) g',
    );
    const relation = String(await stanza.cluster.value("SELECT pg_relation_filepath('victim')"));
    const small = String(await stanza.cluster.value("SELECT pg_relation_filepath('small_victim')"));
    await stanza.cluster.query('CHECKPOINT');
    await stanza.cluster.stop();
    // flip bytes in the middle of a block: its stored checksum no longer matches
    const corrupt = (path: string, block: number) => {
      const fd = openSync(join(stanza.cluster.dataDir, path), 'r+');
      writeSync(fd, Buffer.from('pgkeep was here'), 0, 15, block * 8192 + 4000);
      closeSync(fd);
    };
    corrupt(relation, 3);
    corrupt(small, 1);
    expect(statSync(join(stanza.cluster.dataDir, small)).size).toBeLessThanOrEqual(256 * 1024);
    await stanza.cluster.start();

    const backup = await stanza.pgkeep(['--type=full', '--annotation=source=page test', '--annotation=ticket=42', 'backup']);
    expect(backup.code).toBe(0);
    expect(backup.stderr).toContain(`WARN: invalid page checksum found in file pg_data/${relation} at page 3`);
    expect(backup.stderr).toContain(`WARN: invalid page checksum found in file pg_data/${small} at page 1`);

    const [info] = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as [
      { backup: { label: string; error: boolean }[] },
    ];
    const last = info.backup.at(-1)!;
    expect(last.error).toBe(true);
    const manifest = readFileSync(join(stanza.repoPath, 'backup', 'main', last.label, 'backup.manifest'), 'utf8');
    expect(manifest).toMatch(
      new RegExp(`^pg_data/${relation}=\\{"checksum":"[0-9a-f]{40}","checksum-page":false,"checksum-page-error":\\[3\\]`, 'm'),
    );
    // the other relation files are recorded as checked and valid
    expect(manifest).toMatch(/^pg_data\/base\/\d+\/\d+=\{"checksum":"[0-9a-f]{40}","checksum-page":true,/m);

    // info --set shows the file with the error and the annotations, as pgbackrest shows them
    const text = (await stanza.pgkeep([`--set=${last.label}`, 'info'])).stdout;
    expect(text).toContain(`            error list: ${[relation, small].sort().join(', ')}\n`);
    expect(text).toContain('            annotation(s)\n                source: page test\n                ticket: 42\n');
    for (const output of [[], ['--output=json']]) {
      const args = [...output, `--set=${last.label}`, 'info'];
      expect((await stanza.pgkeep(args)).stdout.trimEnd()).toBe((await stanza.pgbackrest(args)).stdout.trimEnd());
    }
  });
});

const CIPHER_PASS = 'resume passphrase';

describe.each([
  { name: 'resume after kill -9', encrypted: false, types: ['full', 'incr'] },
  // The resumed backup must keep the passphrase its stored files were encrypted with
  { name: 'resume after kill -9 in an encrypted repository', encrypted: true, types: ['full'] },
])('$name', ({ encrypted, types }) => {
  let stanza: TestStanza;
  beforeAll(async () => {
    // gz makes the copy slow enough to be killed in the middle; a low threshold checkpoints often
    const cipher: Record<string, string> = encrypted
      ? { 'repo1-cipher-type': 'aes-256-cbc', 'repo1-cipher-pass': CIPHER_PASS }
      : {};
    stanza = await TestStanza.withPgbench(5, {
      global: { 'compress-type': 'gz', 'manifest-save-threshold': '4MiB', 'process-max': 1, ...cipher },
    });
  });
  afterAll(async () => stanza?.destroy());

  /** A checkpoint manifest's text (written atomically: complete whenever it exists). */
  const checkpointText = (path: string): string => {
    const stored = readFileSync(path);
    if (!encrypted) return stored.toString('utf8');
    const backupInfo = decryptBuffer(readFileSync(join(stanza.repoPath, 'backup', 'main', 'backup.info')), CIPHER_PASS);
    const manifestPass = /^cipher-pass="(.*)"$/m.exec(backupInfo.toString('utf8'))![1]!;
    return decryptBuffer(stored, manifestPass).toString('utf8');
  };

  it.each(types)('a %s backup killed mid-copy resumes, copying less, and the result restores', async (type) => {
    if (type === 'incr') await stanza.cluster.query('UPDATE pgbench_accounts SET abalance = abalance + 1'); // rewrites every page
    const backupDir = join(stanza.repoPath, 'backup', 'main');
    const before = new Set(readdirSync(backupDir));
    const child = spawn(pgkeepBin(), [`--config=${stanza.configPath}`, '--stanza=main', `--type=${type}`, 'backup'], {
      uid: osUser().uid,
      gid: osUser().gid,
      stdio: 'ignore',
    });
    // kill it as soon as its checkpoint records the biggest file (pgbench_accounts) as copied
    const accounts = `pg_data/${String(await stanza.cluster.value("SELECT pg_relation_filepath('pgbench_accounts')"))}`;
    const copied = new RegExp(`^${accounts}=\\{"checksum":"[0-9a-f]{40}","checksum-page":true,"rck"(?!.*"reference")`, 'm');
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const label = readdirSync(backupDir).find((name) => !before.has(name) && /^\d{8}-\d{6}F/.test(name));
      const checkpoint = label === undefined ? '' : join(backupDir, label, 'backup.manifest.copy');
      const content = checkpoint !== '' && existsSync(checkpoint) ? checkpointText(checkpoint) : '';
      if (copied.test(content)) break;
      if (child.exitCode !== null) throw new Error(`the backup ended (${child.exitCode}) before it could be killed`);
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // Its lock file stays, naming a dead process; the flock() it held died with it, so pgbackrest
    // would take the lock too (flock -n succeeds).
    const lockFile = join(stanza.lockPath, 'main-backup.lock');
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: child.pid });
    expect(spawnSync('flock', ['--nonblock', lockFile, 'true']).status).toBe(0);

    const interrupted = readdirSync(backupDir).filter(
      (name) => /^\d{8}-\d{6}F/.test(name) && !existsSync(join(backupDir, name, 'backup.manifest')),
    );
    expect(interrupted).toHaveLength(1);

    const resumed = await stanza.pgkeep(['--log-level-console=info', '--output=json', `--type=${type}`, 'backup']);
    expect(resumed.stderr).toContain(
      `WARN: resumable backup ${interrupted[0]} of same type exists -- invalid files will be removed then the backup will resume`,
    );
    expect(resumed.stderr).toMatch(/INFO: resumed backup: \d+ files already stored were checked and kept/);
    const result = JSON.parse(
      resumed.stdout
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .at(-1)!,
    ) as { label: string; resumed: boolean; filesResumed: number; bytesCopied: number; size: number };
    expect(result.label).toBe(interrupted[0]);
    expect(result.resumed).toBe(true);
    expect(result.filesResumed).toBeGreaterThan(0);
    expect(result.bytesCopied).toBeLessThan(result.size * 0.9);

    const verify = await stanza.pgbackrest(['--output=text', '--verbose', 'verify']);
    expect(verify.stdout).toMatch(new RegExp(`backup: ${result.label}, status: valid`));

    await stanza.pgkeep(['check']);
    const source = await pgbenchState(stanza.cluster);
    const data = join(tempDir('restore'), 'data');
    mkdirSync(data, { mode: 0o700 });
    chownSync(data, osUser().uid, osUser().gid);
    await stanza.pgbackrest([`--set=${result.label}`, `--pg1-path=${data}`, 'restore']);
    const restored = await PgCluster.adopt(data);
    try {
      await restored.start();
      await restored.waitForRecoveryEnd();
      expect(await pgbenchState(restored)).toEqual(source);
    } finally {
      await restored.destroy();
      removeDir(join(data, '..'));
    }
  });
});
