import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

import { afterAll, describe, expect, it } from 'vitest';

import { measureFile } from '../../../../../engine/command/verify/verify-file.js';
import { encryptBuffer } from '../../../../../engine/filter/cipher.js';

const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

describe('measureFile of an encrypted repository file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-verify-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Small files are measured in memory, large ones streamed: both paths, uncompressed
  it.each([
    ['small', 3000],
    ['large', 1_500_000],
  ])('measures the stored bytes and the decrypted content of a %s uncompressed file', async (_kind, size) => {
    const plain = Buffer.alloc(size, 7);
    // A fixed salt: with a wrong passphrase the padding fails the same way every run
    const stored = encryptBuffer(plain, 'files-pass', Buffer.alloc(8, 3));
    const path = join(dir, `file-${size}`);
    writeFileSync(path, stored);
    const job = { path, compressType: 'none' as const, content: true, size: stored.length, cipherPass: 'files-pass' };
    expect(await measureFile(job, () => undefined)).toEqual({
      status: 'read',
      repoSize: stored.length,
      repoChecksum: sha1(stored),
      size: plain.length,
      checksum: sha1(plain),
    });
    // Another passphrase: the stored bytes are still measured, the content is not
    const wrong = await measureFile({ ...job, cipherPass: 'other' }, () => undefined);
    expect(wrong).toMatchObject({ status: 'failed', repoSize: stored.length, repoChecksum: sha1(stored) });
    expect(wrong.status === 'failed' && wrong.error).toContain('wrong passphrase, or the file is damaged');
  });
});
