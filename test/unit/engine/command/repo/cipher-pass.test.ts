import { describe, expect, it } from 'vitest';

import { repoFilePass } from '../../../../../engine/command/repo/cipher-pass.js';
import { parseCommandLine } from '../../../../../engine/config/command-line.js';
import { resolveConfig } from '../../../../../engine/config/resolve.js';
import { newArchiveInfo, saveArchiveInfo } from '../../../../../engine/repo/info/archive-info.js';
import { newBackupInfo, saveBackupInfo } from '../../../../../engine/repo/info/backup-info.js';
import { parseManifest, saveManifestFile } from '../../../../../engine/repo/manifest/manifest.js';
import { memoryIo } from '../../config/memory-io.js';
import { example } from '../../repo/examples.js';
import { MemoryStorage } from '../../repo/memory-storage.js';

const LABEL = '20261121-045214F';

const configOf = (args: string[], cipher = 'repo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass=repo-pass\n', env = {}) =>
  resolveConfig({
    command: 'repo-get',
    commandLine: parseCommandLine([...args, 'repo-get', 'x']),
    env,
    io: memoryIo({ '/etc/pgkeep/pgkeep.conf': `[global]\nrepo1-path=/memory\n${cipher}` }),
  });

/** An encrypted repository's info files and one manifest, each with its own passphrase. */
async function encryptedRepo(): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  await saveArchiveInfo(storage, 'archive/main/archive.info', newArchiveInfo(1n, '15', 'wal-pass'), 'repo-pass');
  const info = newBackupInfo({
    systemId: 1n,
    version: '15',
    catalogVersion: 202209061,
    controlVersion: 1300,
    cipherPass: 'manifest-pass',
  });
  await saveBackupInfo(storage, 'backup/main/backup.info', info, 'repo-pass');
  const manifest = parseManifest(example('encrypted-repo.backup.manifest.decrypted'), 'm');
  await saveManifestFile(
    storage,
    `backup/main/${LABEL}/backup.manifest`,
    { ...manifest, cipherPass: 'files-pass' },
    { cipherPass: 'manifest-pass' },
  );
  return storage;
}

describe('repoFilePass: the passphrase of a repository file, from its path (pgBackRest repo-get)', () => {
  it('takes each file to the passphrase it was encrypted with', async () => {
    const storage = await encryptedRepo();
    const pass = (file: string, args: string[] = [], env = {}) => repoFilePass(configOf(args, undefined, env), 1, storage, file);
    expect(await pass('archive/main/archive.info')).toBe('repo-pass');
    expect(await pass('archive/main/archive.info.copy')).toBe('repo-pass');
    expect(await pass('archive/main/15-1/0000000100000000/000000010000000000000001-abc.lz4')).toBe('wal-pass');
    expect(await pass('backup/main/backup.info.copy')).toBe('repo-pass');
    expect(await pass(`backup/main/${LABEL}/backup.manifest`)).toBe('manifest-pass');
    expect(await pass('backup/main/backup.history/2026/x.manifest.gz')).toBe('manifest-pass');
    expect(await pass(`backup/main/${LABEL}/pg_data/PG_VERSION.lz4`)).toBe('files-pass');
    // cipher-pass (a secret: from the environment or a file) names it; --raw decrypts nothing
    expect(await pass('anything', [], { PGKEEP_CIPHER_PASS: 'given' })).toBe('given');
    expect(await pass('archive/main/archive.info', ['--raw'])).toBeUndefined();
  });

  it('decrypts nothing in an unencrypted repository, and refuses a path that does not tell the passphrase', async () => {
    const storage = await encryptedRepo();
    expect(await repoFilePass(configOf([], ''), 1, storage, 'archive/main/archive.info')).toBeUndefined();
    for (const file of ['backup.info', 'backup/main', 'other/main/file']) {
      await expect(repoFilePass(configOf([]), 1, storage, file)).rejects.toMatchObject({
        errorName: 'OptionInvalidValue',
        message: `unable to determine cipher passphrase for '${file}'`,
      });
    }
  });
});
