import { createHash, type Hash } from 'node:crypto';

import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import type { ErrorName } from '../../error/error-table.js';
import { log } from '../../log/logger.js';
import { cryptoError, decryptBuffer, encryptBuffer, isEncrypted, WRONG_PASS } from '../../filter/cipher.js';
import type { Storage } from '../../storage/storage.js';
import { compareBytes, JsonSyntaxError, parseJson, renderJson, renderJsonString, type JsonValue } from './json-value.js';

/**
 * The file format shared by archive.info, backup.info and backup.manifest (repo-format 2.1, 2.4,
 * 2.5): INI sections whose values are JSON, closed by a second `[backrest]` section holding a SHA-1
 * over every other key and value. This module reads it line by line (manifests can be hundreds of
 * megabytes), verifies the checksum over the raw value text in file order, and writes it with a
 * checksum computed over exactly what is written.
 */

/** `backrest-format`: the only repository format pgBackRest 2.x reads and writes. */
export const REPOSITORY_FORMAT = 5;
/** The pgBackRest version pgkeep writes as `backrest-version` (the format it reproduces). */
export const PGBACKREST_VERSION = '2.45';
export const INFO_COPY_EXT = '.copy';

const SECTION_BACKREST = 'backrest';
const KEY_FORMAT = 'backrest-format';
const KEY_VERSION = 'backrest-version';
const KEY_CHECKSUM = 'backrest-checksum';
/** Flush the checksum text to the hash in pieces of about this many characters. */
const HASH_BATCH = 64 * 1024;

// ------------------------------------------------------------------------------------------------
// Checksum

/**
 * The checksum text is JSON-shaped: `{"section":{"key":value,...},...}` with keys escaped the way
 * pgBackRest escapes JSON strings, section names raw, and values exactly as written in the file.
 */
class InfoChecksum {
  private readonly hash: Hash = createHash('sha1');
  private pending = '{';
  private section: string | undefined;

  add(section: string, key: string, raw: string): void {
    if (this.section === undefined) this.pending += `"${section}":{`;
    else if (section !== this.section) this.pending += `},"${section}":{`;
    else this.pending += ',';
    this.section = section;
    this.pending += `${renderJsonString(key)}:${raw}`;
    if (this.pending.length >= HASH_BATCH) {
      this.hash.update(this.pending, 'utf8');
      this.pending = '';
    }
  }

  digest(): string {
    this.hash.update(`${this.pending}}}`, 'utf8');
    this.pending = '';
    return this.hash.digest('hex');
  }
}

// ------------------------------------------------------------------------------------------------
// Reading

/** Called for every key/value outside the `[backrest]` section, in file order. */
export type InfoValueHandler = (section: string, key: string, value: JsonValue, line: number) => void;

export interface InfoHeader {
  /** `backrest-version` of the writer, when present. */
  readonly backrestVersion: string | undefined;
  /** The verified checksum. */
  readonly checksum: string;
}

/**
 * pgBackRest's strict INI reader: lines are not trimmed, empty lines are skipped, `[x]` is a
 * section, anything else is `key=value` split at the first `=` whose right side is valid JSON (so
 * keys may contain `=`). Feed it lines (without their `\n`) and call end() to verify the checksum.
 */
export class InfoReader {
  private readonly checksum = new InfoChecksum();
  private section: string | undefined;
  private lineNumber = 0;
  private backrestVersion: string | undefined;
  private checksumExpected: string | undefined;

  constructor(
    readonly fileName: string,
    private readonly onValue: InfoValueHandler,
  ) {}

  line(text: string): void {
    const lineNumber = ++this.lineNumber;
    if (text.length === 0) return;

    if (text.charCodeAt(0) === 0x5b /* [ */ && text.charCodeAt(text.length - 1) === 0x5d /* ] */) {
      const section = text.slice(1, -1);
      if (section.length === 0) throw this.invalid(lineNumber, `invalid empty section '${text}'`);
      this.section = section;
      return;
    }
    if (this.section === undefined) throw this.invalid(lineNumber, `key/value found outside of a section: ${excerpt(text)}`);

    let equal = text.indexOf('=');
    if (equal < 0) throw this.invalid(lineNumber, `missing '=' in key/value: ${excerpt(text)}`);
    let value: JsonValue;
    for (;;) {
      try {
        value = parseJson(text.slice(equal + 1));
        break;
      } catch (error) {
        /* v8 ignore next -- the parser throws nothing else */
        if (!(error instanceof JsonSyntaxError)) throw error;
        // The key may contain '=': try the next one
        equal = text.indexOf('=', equal + 1);
        if (equal < 0) throw this.invalid(lineNumber, `invalid JSON value (${error.message}): ${excerpt(text)}`);
      }
    }
    const key = text.slice(0, equal);
    if (key.length === 0) throw this.invalid(lineNumber, `key is zero-length: ${excerpt(text)}`);
    const section = this.section;

    if (section === SECTION_BACKREST && key === KEY_CHECKSUM) {
      if (typeof value !== 'string') throw this.invalid(lineNumber, `${KEY_CHECKSUM} must be a string`);
      this.checksumExpected = value;
      return;
    }
    this.checksum.add(section, key, text.slice(equal + 1));

    if (section === SECTION_BACKREST) {
      if (key === KEY_FORMAT && value !== REPOSITORY_FORMAT) {
        throw new PgkeepError(
          'Format',
          `expected format ${REPOSITORY_FORMAT} but found ${renderJson(value)} at ${this.fileName}:${lineNumber}`,
          {
            hint: 'this repository was written by an incompatible version of pgBackRest',
          },
        );
      }
      if (key === KEY_VERSION) {
        if (typeof value !== 'string') throw this.invalid(lineNumber, `${KEY_VERSION} must be a string`);
        this.backrestVersion = value;
      }
      return;
    }
    this.onValue(section, key, value, lineNumber);
  }

  /** Verifies the checksum once every line was read. */
  end(): InfoHeader {
    const actual = this.checksum.digest();
    if (this.checksumExpected === undefined) {
      throw new PgkeepError('Checksum', `invalid checksum in '${this.fileName}': actual '${actual}' but no checksum found`, {
        hint: 'the file is incomplete or is not a pgBackRest info file',
      });
    }
    if (this.checksumExpected !== actual) {
      throw new PgkeepError(
        'Checksum',
        `invalid checksum in '${this.fileName}': actual '${actual}' but expected '${this.checksumExpected}'`,
        {
          hint: 'the file was changed or damaged after it was written',
        },
      );
    }
    return { backrestVersion: this.backrestVersion, checksum: actual };
  }

  private invalid(lineNumber: number, message: string): PgkeepError {
    return new PgkeepError('FileInvalid', `${message} at ${this.fileName}:${lineNumber}`, {
      hint: 'the file is damaged; pgkeep falls back to its .copy when loading from a repository',
    });
  }
}

function excerpt(line: string): string {
  return line.length <= 120 ? line : `${line.slice(0, 117)}...`;
}

/**
 * Calls onLine for every `\n`-terminated line of the chunks (and a last unterminated one). Each line
 * is decoded from bytes on its own, so strings kept by the caller do not pin whole chunks.
 */
export async function forEachLine(source: AsyncIterable<Uint8Array | string>, onLine: (line: string) => void): Promise<void> {
  let carry: Buffer | undefined;
  for await (const piece of source) {
    const chunk =
      typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    const buffer = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    carry = splitLines(buffer, onLine);
  }
  if (carry !== undefined) onLine(carry.toString('utf8'));
}

/** Synchronous forEachLine over one buffer. */
export function forEachLineSync(buffer: Buffer, onLine: (line: string) => void): void {
  const rest = splitLines(buffer, onLine);
  if (rest !== undefined) onLine(rest.toString('utf8'));
}

function splitLines(buffer: Buffer, onLine: (line: string) => void): Buffer | undefined {
  let start = 0;
  for (;;) {
    const newline = buffer.indexOf(0x0a, start);
    if (newline < 0) break;
    onLine(buffer.toString('utf8', start, newline));
    start = newline + 1;
  }
  // Copy the unterminated rest so it does not keep the chunk it came from
  return start < buffer.length ? Buffer.from(buffer.subarray(start)) : undefined;
}

/** How every info file and manifest starts: decrypted text that does not is a wrong passphrase's noise. */
const INFO_START = Buffer.from(`[${SECTION_BACKREST}]`);

/**
 * Passes on the decrypted text of an info file or manifest, checking that it starts as one does:
 * decrypted with a wrong passphrase it is noise, which the parser would only call a format error,
 * and a padding check (the only other sign, at the end of a stream) lets one wrong passphrase in
 * 256 through.
 */
export async function* decryptedText(source: AsyncIterable<Uint8Array>, file: string): AsyncGenerator<Uint8Array> {
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const chunk of source) {
    if (head === undefined) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length < INFO_START.length) continue;
    checkInfoStart(head, file);
    yield head;
    head = undefined;
  }
  if (head !== undefined) {
    checkInfoStart(head, file);
    yield head;
  }
}

function checkInfoStart(text: Buffer, file: string): void {
  if (!text.subarray(0, INFO_START.length).equals(INFO_START)) throw cryptoError(file, WRONG_PASS);
}

/** An encrypted file read without a passphrase: the configuration does not say the repository is encrypted. */
export function encryptedError(fileName: string): PgkeepError {
  return new PgkeepError('Crypto', `'${fileName}' is encrypted, but repo-cipher-type is none`, {
    hint: 'set repo-cipher-type=aes-256-cbc and repo-cipher-pass to the passphrase the repository was created with',
  });
}

// ------------------------------------------------------------------------------------------------
// Writing

/**
 * Writes key/values in the order given (the caller sorts) and the closing checksum section.
 * take() hands out what was rendered so far, so large files are written in pieces.
 */
export class InfoWriter {
  private readonly checksum = new InfoChecksum();
  private section: string | undefined;
  private out = '';

  /** Writes `[backrest]` with format and version first, as every pgBackRest file starts. */
  constructor(backrestVersion: string = PGBACKREST_VERSION) {
    this.value(SECTION_BACKREST, KEY_FORMAT, String(REPOSITORY_FORMAT));
    this.value(SECTION_BACKREST, KEY_VERSION, renderJsonString(backrestVersion));
  }

  /** One key with its value already rendered as JSON. */
  value(section: string, key: string, raw: string): void {
    if (key.length === 0 || key.includes('\n') || section.includes('\n') || raw.includes('\n')) {
      throw new PgkeepError('Assert', `cannot write key '${key}' of section '${section}': empty, or contains a line break`);
    }
    // A value starting with '[' would read back as a section
    if (raw.length === 0 || raw.charCodeAt(0) === 0x5b)
      throw new PgkeepError('Assert', `cannot write value '${raw}' of key '${key}': not a JSON scalar or object`);
    if (key.includes('=')) assertKeyReadsBack(key, raw);
    if (section !== this.section) {
      if (this.section !== undefined) this.out += '\n';
      this.out += `[${section}]\n`;
      this.section = section;
    }
    this.out += `${key}=${raw}\n`;
    this.checksum.add(section, key, raw);
  }

  /** Characters rendered and not taken yet. */
  get pendingLength(): number {
    return this.out.length;
  }

  /** The text rendered since the last take(). */
  take(): string {
    const text = this.out;
    this.out = '';
    return text;
  }

  /** The remaining text with the checksum section; the writer is done after this. */
  finish(): string {
    const text = `${this.out}\n[${SECTION_BACKREST}]\n${KEY_CHECKSUM}=${renderJsonString(this.checksum.digest())}\n`;
    this.out = '';
    return text;
  }
}

/** The reader splits at the first '=' whose right side is JSON: check it splits this line at the end of the key. */
function assertKeyReadsBack(key: string, raw: string): void {
  const line = `${key}=${raw}`;
  for (let equal = line.indexOf('='); equal >= 0; equal = line.indexOf('=', equal + 1)) {
    try {
      parseJson(line.slice(equal + 1));
    } catch {
      continue;
    }
    if (equal === key.length) return;
    // An earlier split cannot parse when the value is JSON ('=' only occurs inside JSON strings); kept as a guard
    /* v8 ignore next */
    break;
  }
  throw new PgkeepError('Assert', `cannot write key '${key}' with value '${raw}': it would not read back as written`);
}

// ------------------------------------------------------------------------------------------------
// Generic document (archive.info, backup.info, and any info file as plain data)

export interface InfoDocument {
  /** `backrest-version` of the file's writer. */
  backrestVersion: string;
  /** Every section but `[backrest]`, in file order, with its keys in file order. */
  sections: Map<string, Map<string, JsonValue>>;
}

/** Sections whose keys keep their order instead of being sorted on save. */
const ORDERED_SECTIONS = new Set(['db:history']);

export function parseInfo(content: string | Buffer, fileName: string): InfoDocument {
  const sections = new Map<string, Map<string, JsonValue>>();
  const reader = new InfoReader(fileName, (section, key, value) => {
    let keys = sections.get(section);
    if (keys === undefined) sections.set(section, (keys = new Map()));
    keys.set(key, value);
  });
  forEachLineSync(typeof content === 'string' ? Buffer.from(content, 'utf8') : content, (line) => reader.line(line));
  const header = reader.end();
  return { backrestVersion: header.backrestVersion ?? PGBACKREST_VERSION, sections };
}

/**
 * Renders the document as pgBackRest does: `[backrest]` first, then the other sections in strcmp
 * order with their keys in strcmp order (except `[db:history]`, which keeps its oldest-first
 * numeric order), values as compact JSON with sorted object keys. Empty sections are left out.
 */
export function renderInfo(document: InfoDocument): string {
  const writer = new InfoWriter(document.backrestVersion);
  for (const section of [...document.sections.keys()].sort(compareBytes)) {
    if (section === SECTION_BACKREST) continue;
    const keys = document.sections.get(section)!;
    const names = ORDERED_SECTIONS.has(section) ? [...keys.keys()] : [...keys.keys()].sort(compareBytes);
    for (const key of names) writer.value(section, key, renderJson(keys.get(key)!));
  }
  return writer.finish();
}

// ------------------------------------------------------------------------------------------------
// Files in storage

export interface LoadedFile<T> {
  readonly value: T;
  /** The file it came from: the main file or its `.copy`. */
  readonly file: string;
}

/**
 * pgBackRest's load rule for info files and manifests: try `<file>`, then `<file>.copy` when the
 * first is missing or invalid; fail only when both fail, naming both files and both reasons.
 */
export async function loadWithCopyFallback<T>(
  path: string,
  load: (file: string) => Promise<T>,
  what = 'info file',
): Promise<LoadedFile<T>> {
  const failures: { file: string; error: PgkeepError }[] = [];
  for (const file of [path, path + INFO_COPY_EXT]) {
    try {
      const value = await load(file);
      if (failures.length > 0)
        log.warn(`${what} '${path}' is not usable (${failures[0]!.error.message}): loaded '${file}' instead`);
      return { value, file };
    } catch (caught) {
      failures.push({ file, error: toPgkeepError(caught) });
    }
  }
  const [first, second] = failures as [(typeof failures)[0], (typeof failures)[0]];
  let name: ErrorName = first.error.errorName;
  if (second.error.errorName !== name) {
    if (name === 'FileMissing') name = second.error.errorName;
    else if (second.error.errorName !== 'FileMissing') name = 'FileInvalid';
  }
  const reasons = failures.map(({ file, error }) => `\n  ${file}: [${error.errorName}] ${error.message}`).join('');
  throw new PgkeepError(name, `unable to load ${what} '${path}' or '${path}${INFO_COPY_EXT}':${reasons}`, {
    hint:
      name === 'FileMissing'
        ? 'check the repository path and the stanza name; a new stanza needs stanza-create'
        : // Both failed the same way (a wrong passphrase): that error's advice is the one that helps.
          name === 'Crypto' && first.error.hint !== undefined
          ? first.error.hint
          : 'both the file and its copy are damaged: restore one of them from a backup of the repository',
    cause: first.error,
  });
}

/**
 * Reads a whole small file, decrypted with `cipherPass` when given (an encrypted repository);
 * missing is FileMissing, an encrypted file without a passphrase is Crypto.
 */
export async function readRepoFile(storage: Storage, file: string, cipherPass?: string): Promise<Buffer> {
  const content = await storage.readBuffer(file, { ignoreMissing: true });
  if (content === undefined) throw new PgkeepError('FileMissing', `unable to open missing file '${file}' for read`);
  if (cipherPass !== undefined) {
    const plain = decryptBuffer(content, cipherPass, file);
    // A wrong passphrase passes the padding check once in 256: the text then does not start as an info file's.
    checkInfoStart(plain, file);
    return plain;
  }
  if (isEncrypted(content)) throw encryptedError(file);
  return content;
}

/** Loads an info file (or its copy) as a generic document. */
export async function loadInfoFile(storage: Storage, path: string, cipherPass?: string): Promise<LoadedFile<InfoDocument>> {
  return loadWithCopyFallback(storage.resolve(path), async (file) =>
    parseInfo(await readRepoFile(storage, file, cipherPass), file),
  );
}

/**
 * Saves an info file the way pgBackRest 2.45 does (info/infoArchive.c, infoBackup.c save file):
 * the main file first, then the byte-identical `.copy`, each written atomically.
 */
export async function saveInfoFile(storage: Storage, path: string, text: string | Buffer, cipherPass?: string): Promise<void> {
  const plain = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  // The copy holds the very same bytes (one salt for both).
  const content = cipherPass === undefined ? plain : encryptBuffer(plain, cipherPass);
  await storage.write(path, content);
  await storage.write(path + INFO_COPY_EXT, content);
}
