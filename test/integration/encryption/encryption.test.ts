import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { VerifyReport } from '../../../engine/command/verify/verify-report.js';
import type { PgCluster } from '../../harness/pg-cluster.js';
import { TestStanza } from '../../harness/stanza.js';
import { emptyCluster, startRestored, switchAndArchive, tableDigest } from '../restore/helpers.js';

const PASS = 'correct horse battery staple';

/** Every regular file under a directory, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : [],
  );
}

/** What `openssl enc -d` makes of a repository file with a passphrase: the format is OpenSSL's. */
function opensslDecrypt(file: string, pass: string): Buffer {
  const result = spawnSync('openssl', ['enc', '-d', '-aes-256-cbc', '-md', 'sha1', '-pass', 'stdin', '-in', file], {
    input: `${pass}\n`,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`openssl could not decrypt ${file}: ${result.stderr.toString()}`);
  return result.stdout;
}

/**
 * An encrypted repository (repo1-cipher-type=aes-256-cbc) shared by pgkeep and the real
 * pgbackrest 2.45: each tool's stanza, WAL and backups are read by the other; every file stored is
 * encrypted in OpenSSL's format with the passphrase its info file or manifest holds.
 */
describe('encrypted repositories, with pgbackrest 2.45', () => {
  let stanza: TestStanza;
  let expected: { rows: number; md5: string };
  let labels: { pgkeepFull: string; pgkeepDiff: string; pgbackrestFull: string; pgbackrestIncr: string };
  const clusters: PgCluster[] = [];
  const newCluster = async () => {
    const cluster = await emptyCluster();
    clusters.push(cluster);
    return cluster;
  };
  const backupPath = () => join(stanza.repoPath, 'backup', 'main');
  const restoreArgs = (cluster: PgCluster, set: string) => [
    'restore',
    `--pg1-path=${cluster.dataDir}`,
    `--set=${set}`,
    '--type=immediate',
    '--target-action=promote',
  ];
  const newestLabel = async () => {
    const info = JSON.parse((await stanza.pgkeep(['--output=json', 'info'])).stdout) as [{ backup: { label: string }[] }];
    return info[0].backup.at(-1)!.label;
  };

  beforeAll(async () => {
    stanza = await TestStanza.create({
      global: { 'repo1-cipher-type': 'aes-256-cbc', 'repo1-cipher-pass': PASS, 'compress-type': 'lz4' },
    });
    await stanza.pgkeep(['stanza-create']);
    await stanza.cluster.pgbench(['-i', '-s', '2', '-q']);
    await stanza.pgkeep(['--type=full', 'backup']);
    labels = { pgkeepFull: await newestLabel(), pgkeepDiff: '', pgbackrestFull: '', pgbackrestIncr: '' };
    await stanza.cluster.query('UPDATE pgbench_accounts SET abalance = abalance + 7 WHERE aid % 10 = 0');
    await stanza.pgkeep(['--type=diff', 'backup']);
    labels.pgkeepDiff = await newestLabel();
    await stanza.pgbackrest(['--type=full', '--compress-type=gz', 'backup']);
    labels.pgbackrestFull = await newestLabel();
    await stanza.cluster.query('UPDATE pgbench_accounts SET abalance = abalance - 3 WHERE aid % 7 = 0');
    await stanza.pgbackrest(['--type=incr', 'backup']);
    labels.pgbackrestIncr = await newestLabel();
    expected = await tableDigest(stanza.cluster, 'pgbench_accounts');
    await switchAndArchive(stanza);
  });
  afterAll(async () => {
    for (const cluster of clusters) await cluster.destroy();
    await stanza?.destroy();
  });

  it('stores every file encrypted: info files with the passphrase, manifests and WAL with the passphrases in them', async () => {
    const archiveInfo = opensslDecrypt(join(stanza.repoPath, 'archive', 'main', 'archive.info'), PASS).toString();
    const backupInfo = opensslDecrypt(join(backupPath(), 'backup.info'), PASS).toString();
    const walPass = /^cipher-pass="(.{64})"$/m.exec(archiveInfo)![1]!;
    const manifestPass = /^cipher-pass="(.{64})"$/m.exec(backupInfo)![1]!;
    expect(walPass).not.toBe(manifestPass);

    const manifest = (label: string) => opensslDecrypt(join(backupPath(), label, 'backup.manifest'), manifestPass).toString();
    const filesPass = (label: string) => /^cipher-pass="(.{64})"$/m.exec(manifest(label))![1]!;
    // A diff refers to its full backup's files: it has the same passphrase; another full has its own
    expect(filesPass(labels.pgkeepDiff)).toBe(filesPass(labels.pgkeepFull));
    expect(filesPass(labels.pgbackrestFull)).not.toBe(filesPass(labels.pgkeepFull));

    // Nothing stored by pgkeep is plain: every file starts with OpenSSL's magic (empty ones too)
    const stored = filesUnder(join(backupPath(), labels.pgkeepFull)).filter((file) => !file.endsWith('backup.manifest.copy'));
    expect(stored.length).toBeGreaterThan(500);
    expect(stored.every((file) => readFileSync(file).subarray(0, 8).toString('latin1') === 'Salted__')).toBe(true);
    const control = join(backupPath(), labels.pgkeepFull, 'pg_data', 'global', 'pg_control.lz4');
    const lz4 = opensslDecrypt(control, filesPass(labels.pgkeepFull));
    expect(lz4.readUInt32LE(0)).toBe(0x184d2204);
    const history = filesUnder(join(backupPath(), 'backup.history')).find((file) => file.includes(labels.pgkeepFull))!;
    expect(opensslDecrypt(history, manifestPass).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));

    const segments = filesUnder(join(stanza.repoPath, 'archive', 'main')).filter((file) =>
      /\/[0-9A-F]{24}-[0-9a-f]{40}\.lz4$/.test(file),
    );
    expect(segments.length).toBeGreaterThan(2);
    for (const segment of segments) expect(opensslDecrypt(segment, walPass).readUInt32LE(0)).toBe(0x184d2204);
  });

  it("pgbackrest reads pgkeep's encrypted stanza, backups and WAL: info lists them, verify finds them valid, check passes", async () => {
    const info = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as [
      { cipher: string; status: { code: number }; backup: { label: string }[] },
    ];
    expect(info[0]).toMatchObject({ cipher: 'aes-256-cbc', status: { code: 0 } });
    expect(info[0].backup.map((backup) => backup.label)).toEqual(Object.values(labels));
    const verify = await stanza.pgbackrest(['verify', '--log-level-console=info'], { check: false });
    expect(verify.code).toBe(0);
    expect(verify.stdout).not.toMatch(/invalid|missing|checksum/i);
    await stanza.pgbackrest(['check']);
    await stanza.pgkeep(['check']);
  });

  it("pgbackrest restores pgkeep's encrypted diff backup; recovery reads pgkeep's encrypted WAL", async () => {
    const target = await newCluster();
    await stanza.pgbackrest(restoreArgs(target, labels.pgkeepDiff));
    await startRestored(target);
    expect(Number(await target.value('SELECT count(*) FROM pgbench_accounts'))).toBe(200_000);
    expect(Number(await target.value('SELECT sum(abalance) FROM pgbench_accounts'))).toBe(20_000 * 7);
  });

  it("pgkeep restores pgbackrest's encrypted gz incremental backup; recovery (pgkeep archive-get) reads the encrypted WAL", async () => {
    const target = await newCluster();
    await stanza.pgkeep(restoreArgs(target, labels.pgbackrestIncr));
    expect(readFileSync(join(target.dataDir, 'postgresql.auto.conf'), 'utf8')).toContain('archive-get');
    await startRestored(target);
    expect(await tableDigest(target, 'pgbench_accounts')).toEqual(expected);
  });

  it('pgkeep verify checks the encrypted files of both tools, and finds a flipped bit in one', async () => {
    const clean = JSON.parse((await stanza.pgkeep(['verify', '--output=json'])).stdout) as VerifyReport;
    expect(clean.backups.map((backup) => [backup.label, backup.status])).toEqual(
      Object.values(labels).map((label) => [label, 'valid']),
    );
    expect(clean.archives[0]!.walChecked).toBeGreaterThan(2);
    expect(clean.archives[0]!.invalidFiles).toEqual([]);
    const file = filesUnder(join(backupPath(), labels.pgbackrestFull, 'pg_data', 'base'))
      .filter((path) => statSync(path).size > 4096)
      .sort()[0]!;
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0x10;
    writeFileSync(file, bytes);
    const damaged = await stanza.pgkeep(['verify', '--output=json', `--set=${labels.pgbackrestFull}`], { check: false });
    expect(damaged.code).toBe(185);
    const report = JSON.parse(damaged.stdout) as VerifyReport;
    expect(report.backups[0]!.invalidFiles).toEqual([
      expect.objectContaining({ file: file.slice(file.indexOf(labels.pgbackrestFull)), reason: 'checksumInvalid' }),
    ]);
  });

  it("repo-get decrypts as pgbackrest does, with each file's passphrase found from its path; --raw gives the stored bytes", async () => {
    const files = [
      'archive/main/archive.info',
      'backup/main/backup.info.copy',
      `backup/main/${labels.pgkeepFull}/backup.manifest`,
      `backup/main/${labels.pgkeepFull}/pg_data/global/pg_control.lz4`,
      `backup/main/${labels.pgbackrestFull}/pg_data/PG_VERSION.gz`,
      filesUnder(join(stanza.repoPath, 'archive', 'main'))
        .find((file) => /\/[0-9A-F]{24}-[0-9a-f]{40}\.lz4$/.test(file))!
        .slice(stanza.repoPath.length + 1),
    ];
    for (const file of files) {
      for (const raw of [[], ['--raw']]) {
        const ours = await stanza.pgkeep(['repo-get', ...raw, file]);
        const theirs = await stanza.pgbackrest(['repo-get', ...raw, file]);
        expect(ours.stdoutBytes.equals(theirs.stdoutBytes), `${raw.join('')} ${file}`).toBe(true);
        expect(ours.stdoutBytes.subarray(0, 8).toString('latin1') === 'Salted__').toBe(raw.length > 0);
      }
    }
    // A file whose passphrase its path does not tell: refused as pgbackrest
    expect(await stanza.bothExit(32, ['repo-get', 'backup/main'])).toContain(
      "unable to determine cipher passphrase for 'backup/main'",
    );
  });

  it('a wrong passphrase is refused with the file named and a hint; an encrypted repository read without one says so', async () => {
    const config = readFileSync(stanza.configPath, 'utf8');
    try {
      writeFileSync(stanza.configPath, config.replace(PASS, 'not the passphrase'));
      const wrong = await stanza.pgkeep(['check'], { check: false });
      expect(wrong.code).toBe(95);
      expect(wrong.stderr).toContain("unable to decrypt '");
      expect(wrong.stderr).toContain('wrong passphrase, or the file is damaged');
      expect(wrong.stderr).toContain('HINT: check repo-cipher-pass');

      writeFileSync(stanza.configPath, config.replace(/^repo1-cipher-.*$/gm, ''));
      const none = await stanza.pgkeep(['info', '--output=json'], { check: false });
      expect(none.stdout).toContain('is encrypted, but repo-cipher-type is none');
      const backup = await stanza.pgkeep(['backup'], { check: false });
      expect(backup.code).toBe(95);
      expect(backup.stderr).toContain('HINT: set repo-cipher-type=aes-256-cbc and repo-cipher-pass');
    } finally {
      writeFileSync(stanza.configPath, config);
    }
  });
});
