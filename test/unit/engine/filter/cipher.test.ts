import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import {
  CIPHER_HEADER_SIZE,
  cipherKeyIv,
  decryptBuffer,
  DecryptFilter,
  encryptBuffer,
  EncryptFilter,
  isEncrypted,
  newCipherPass,
} from '../../../../engine/filter/cipher.js';
import { createFilter } from '../../../../engine/filter/filter-spec.js';
import { runPipeline } from '../../../../engine/filter/pipeline.js';
import { example } from '../repo/examples.js';
import { caught, sameBytes } from './helpers.js';

const PASS = 'ZpubwInMygs8aaxA0fGx/ii1ihEapgD7vq9xowRRusQPSMFlICIb8SaK7D1FFZzR';

/** What OpenSSL's own `enc` makes of data: the format pgBackRest writes and reads. */
function openssl(args: readonly string[], input: Buffer): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-cipher-'));
  try {
    // The passphrase goes through a file, never a command line.
    writeFileSync(join(dir, 'pass'), `${PASS}\n`);
    writeFileSync(join(dir, 'in'), input);
    const result = spawnSync('openssl', [
      'enc',
      ...args,
      '-aes-256-cbc',
      '-md',
      'sha1',
      '-pass',
      `file:${join(dir, 'pass')}`,
      '-in',
      join(dir, 'in'),
    ]);
    if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr.toString()}`);
    return result.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function through(filter: 'encrypt' | 'decrypt', data: Buffer, piece: number, pass = PASS): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const pieces = (function* () {
    for (let at = 0; at < data.length; at += piece) yield data.subarray(at, at + piece);
  })();
  await runPipeline(Readable.from(pieces), [createFilter({ type: filter, pass, file: 'repo/file' })], async (out) => {
    for await (const chunk of out) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

describe('cipher', () => {
  const data = Buffer.from(Array.from({ length: 100_003 }, (_, index) => (index * 7919) % 251));

  it('derives key and IV as EVP_BytesToKey with SHA-1 (openssl enc -P)', () => {
    const salt = Buffer.from('0102030405060708', 'hex');
    const result = spawnSync(
      'openssl',
      ['enc', '-aes-256-cbc', '-md', 'sha1', '-P', '-S', '0102030405060708', '-pass', 'stdin'],
      {
        input: `${PASS}\n`,
      },
    );
    const printed = result.stdout.toString();
    const { key, iv } = cipherKeyIv(PASS, salt);
    expect(printed).toContain(`key=${key.toString('hex').toUpperCase()}`);
    expect(printed).toContain(`iv =${iv.toString('hex').toUpperCase()}`);
  });

  it('writes what openssl enc -d reads, and reads what openssl enc writes, whole and streamed in odd pieces', async () => {
    const ours = encryptBuffer(data, PASS);
    expect(isEncrypted(ours)).toBe(true);
    expect(sameBytes(openssl(['-d'], ours), data)).toBe(true);
    const streamed = await through('encrypt', data, 4097);
    expect(sameBytes(openssl(['-d'], streamed), data)).toBe(true);

    const theirs = openssl([], data);
    expect(sameBytes(decryptBuffer(theirs, PASS, 'f'), data)).toBe(true);
    for (const piece of [1, 7, 16, 65_536]) expect(sameBytes(await through('decrypt', theirs, piece), data)).toBe(true);
  });

  it('encrypts empty content as a header and one block of padding', async () => {
    expect(encryptBuffer(Buffer.alloc(0), PASS)).toHaveLength(CIPHER_HEADER_SIZE + 16);
    const streamed = await through('encrypt', Buffer.alloc(0), 1);
    expect(streamed).toHaveLength(CIPHER_HEADER_SIZE + 16);
    expect(await through('decrypt', streamed, 3)).toHaveLength(0);
  });

  it('salts every file anew: the same content encrypts differently', () => {
    expect(encryptBuffer(data, PASS).equals(encryptBuffer(data, PASS))).toBe(false);
    const salt = Buffer.alloc(8, 1);
    expect(encryptBuffer(data, PASS, salt).equals(encryptBuffer(data, PASS, salt))).toBe(true);
    const filter = new EncryptFilter(PASS, salt);
    expect(filter).toBeInstanceOf(EncryptFilter);
  });

  it('makes passphrases of 64 base64 characters, different each time', () => {
    const pass = newCipherPass();
    expect(pass).toMatch(/^[A-Za-z0-9+/]{64}$/);
    expect(newCipherPass()).not.toBe(pass);
  });

  it('refuses a wrong passphrase, plain content, a short or cut file with Crypto, naming the file', async () => {
    // A fixed salt: a wrong passphrase fails the padding check the same way every run (it passes once in 256 salts)
    const encrypted = encryptBuffer(data, PASS, Buffer.alloc(8, 9));
    const wrong = await caught(() => decryptBuffer(encrypted, 'not the passphrase', 'repo/backup.info'), 'Crypto');
    expect(wrong.message).toBe("unable to decrypt 'repo/backup.info': wrong passphrase, or the file is damaged");
    expect(wrong.hint).toContain('repo-cipher-pass');
    expect((await caught(() => decryptBuffer(Buffer.alloc(40, 0x41), PASS), 'Crypto')).message).toBe(
      'unable to decrypt: the file is not encrypted (no cipher header)',
    );
    expect((await caught(() => decryptBuffer(Buffer.alloc(3), PASS, 'f'), 'Crypto')).message).toContain('too short');
    const cut = encrypted.subarray(0, encrypted.length - 5);
    expect((await caught(() => decryptBuffer(cut, PASS, 'f'), 'Crypto')).message).toContain(
      'wrong passphrase, or the file is damaged',
    );

    expect((await caught(() => through('decrypt', encrypted, 1000, 'wrong'), 'Crypto')).message).toContain("'repo/file'");
    expect((await caught(() => through('decrypt', Buffer.alloc(100, 0x41), 10), 'Crypto')).message).toContain('not encrypted');
    expect((await caught(() => through('decrypt', Buffer.alloc(5), 10), 'Crypto')).message).toContain('too short');
    expect((await caught(() => through('decrypt', cut, 100), 'Crypto')).message).toContain('damaged');
    expect(new DecryptFilter(PASS)).toBeInstanceOf(DecryptFilter);
  });

  it('round-trips the text of a real encrypted pgBackRest backup.info through openssl', () => {
    const text = example('encrypted-repo.backup.info.decrypted');
    expect(sameBytes(openssl(['-d'], encryptBuffer(text, PASS)), text)).toBe(true);
  });
});
