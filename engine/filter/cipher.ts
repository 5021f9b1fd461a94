import { createCipheriv, createDecipheriv, createHash, randomBytes, type Cipher, type Decipher } from 'node:crypto';

import { PgkeepError } from '../error/pgkeep-error.js';
import { Filter } from './filter.js';

/**
 * pgBackRest's encryption (repo-cipher-type=aes-256-cbc), which is OpenSSL `enc`'s format: the
 * magic `Salted__`, an 8-byte random salt, then AES-256-CBC with PKCS#7 padding, key and IV from
 * EVP_BytesToKey with SHA-1 and one round over the passphrase's bytes and the salt. So
 * `openssl enc -d -aes-256-cbc -md sha1 -pass pass:<passphrase>` reads every encrypted file.
 */
export const CIPHER_TYPE = 'aes-256-cbc';
export const CIPHER_MAGIC = Buffer.from('Salted__', 'latin1');
const SALT_SIZE = 8;
/** Magic and salt. */
export const CIPHER_HEADER_SIZE = CIPHER_MAGIC.length + SALT_SIZE;
const KEY_SIZE = 32;
const IV_SIZE = 16;

/** Whether bytes start as an encrypted file does. */
export function isEncrypted(content: Uint8Array): boolean {
  return content.length >= CIPHER_MAGIC.length && CIPHER_MAGIC.equals(content.subarray(0, CIPHER_MAGIC.length));
}

/**
 * A new passphrase for the files below an info file or manifest: 48 random bytes in base64 (64
 * characters), as pgBackRest makes them; the string's bytes are the passphrase.
 */
export function newCipherPass(): string {
  return randomBytes(48).toString('base64');
}

/** EVP_BytesToKey(aes-256-cbc, sha1, salt, passphrase, 1): D_i = SHA1(D_{i-1} || pass || salt) until key and IV are filled. */
export function cipherKeyIv(pass: string, salt: Buffer): { readonly key: Buffer; readonly iv: Buffer } {
  const passBytes = Buffer.from(pass, 'utf8');
  const parts: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let length = 0; length < KEY_SIZE + IV_SIZE; length += previous.length) {
    previous = createHash('sha1').update(previous).update(passBytes).update(salt).digest();
    parts.push(previous);
  }
  const material = Buffer.concat(parts);
  return { key: material.subarray(0, KEY_SIZE), iv: material.subarray(KEY_SIZE, KEY_SIZE + IV_SIZE) };
}

export function cryptoError(file: string | undefined, reason: string): PgkeepError {
  return new PgkeepError('Crypto', `unable to decrypt${file === undefined ? '' : ` '${file}'`}: ${reason}`, {
    hint: 'check repo-cipher-pass: it must be the passphrase the repository was created with; a damaged file cannot be decrypted either',
  });
}

/** The error of bytes that do not decrypt: a wrong passphrase or a damaged file (no way to tell them apart). */
export const WRONG_PASS = 'wrong passphrase, or the file is damaged';

/** Encrypts the bytes that pass through (the header first), as pgBackRest writes repository files. */
export class EncryptFilter extends Filter {
  private readonly cipher: Cipher;
  private readonly header: Buffer;
  private headerSent = false;

  constructor(pass: string, salt: Buffer = randomBytes(SALT_SIZE)) {
    super();
    const { key, iv } = cipherKeyIv(pass, salt);
    this.cipher = createCipheriv(CIPHER_TYPE, key, iv);
    this.header = Buffer.concat([CIPHER_MAGIC, salt]);
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.push(this.header);
  }

  protected process(chunk: Buffer): void {
    this.sendHeader();
    const out = this.cipher.update(chunk);
    if (out.length > 0) this.push(out);
  }

  protected override finish(): void {
    // An empty input still gets a header and one block of padding, as pgBackRest's.
    this.sendHeader();
    this.push(this.cipher.final());
  }
}

/** Decrypts an encrypted stream; `file` names it in errors. */
export class DecryptFilter extends Filter {
  private decipher: Decipher | undefined;
  private head = Buffer.alloc(0);

  constructor(
    private readonly pass: string,
    private readonly file?: string,
  ) {
    super();
  }

  protected process(chunk: Buffer): void {
    if (this.decipher === undefined) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < CIPHER_HEADER_SIZE) return;
      this.start(this.head);
      chunk = this.head.subarray(CIPHER_HEADER_SIZE);
      this.head = Buffer.alloc(0);
    }
    const out = this.decipher!.update(chunk);
    if (out.length > 0) this.push(out);
  }

  private start(head: Buffer): void {
    if (!isEncrypted(head)) throw cryptoError(this.file, 'the file is not encrypted (no cipher header)');
    const { key, iv } = cipherKeyIv(this.pass, head.subarray(CIPHER_MAGIC.length, CIPHER_HEADER_SIZE));
    this.decipher = createDecipheriv(CIPHER_TYPE, key, iv);
  }

  protected override finish(): void {
    if (this.decipher === undefined) throw cryptoError(this.file, 'the file is too short to be encrypted');
    let last: Buffer;
    try {
      last = this.decipher.final();
    } catch {
      // A wrong passphrase makes the padding of the last block wrong (or, rarely, right by chance:
      // then the checksum of what was decrypted fails instead).
      throw cryptoError(this.file, WRONG_PASS);
    }
    if (last.length > 0) this.push(last);
  }
}

/** Encrypts a whole small file (info files). */
export function encryptBuffer(data: Buffer, pass: string, salt: Buffer = randomBytes(SALT_SIZE)): Buffer {
  const { key, iv } = cipherKeyIv(pass, salt);
  const cipher = createCipheriv(CIPHER_TYPE, key, iv);
  return Buffer.concat([CIPHER_MAGIC, salt, cipher.update(data), cipher.final()]);
}

/** Decrypts a whole small file (info files, small repository files); `file` names it in errors. */
export function decryptBuffer(data: Buffer, pass: string, file?: string): Buffer {
  if (data.length < CIPHER_HEADER_SIZE) throw cryptoError(file, 'the file is too short to be encrypted');
  if (!isEncrypted(data)) throw cryptoError(file, 'the file is not encrypted (no cipher header)');
  const { key, iv } = cipherKeyIv(pass, data.subarray(CIPHER_MAGIC.length, CIPHER_HEADER_SIZE));
  const decipher = createDecipheriv(CIPHER_TYPE, key, iv);
  const body = decipher.update(data.subarray(CIPHER_HEADER_SIZE));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch {
    throw cryptoError(file, WRONG_PASS);
  }
}

/** Encrypts pieces as they come: the stage of a copy that builds its bytes without streams (lz4 frames). */
export async function* encryptPieces(pieces: AsyncIterable<Buffer>, pass: string): AsyncGenerator<Buffer> {
  const salt = randomBytes(SALT_SIZE);
  const { key, iv } = cipherKeyIv(pass, salt);
  const cipher = createCipheriv(CIPHER_TYPE, key, iv);
  yield Buffer.concat([CIPHER_MAGIC, salt]);
  for await (const piece of pieces) {
    const out = cipher.update(piece);
    if (out.length > 0) yield out;
  }
  yield cipher.final();
}
