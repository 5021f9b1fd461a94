import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { isPgkeepError, type PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import { encryptBuffer } from '../../../../../engine/filter/cipher.js';
import {
  forEachLine,
  InfoReader,
  InfoWriter,
  loadInfoFile,
  loadWithCopyFallback,
  parseInfo,
  renderInfo,
  saveInfoFile,
} from '../../../../../engine/repo/info/info-codec.js';
import { example, exampleText, INFO_FORMAT_EXAMPLES } from '../examples.js';
import { MemoryStorage } from '../memory-storage.js';

function caught(action: () => unknown): PgkeepError {
  try {
    action();
  } catch (error) {
    if (isPgkeepError(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}

async function rejected(promise: Promise<unknown>): Promise<PgkeepError> {
  try {
    await promise;
  } catch (error) {
    if (isPgkeepError(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}

/** A file in the info format with a correct checksum, built by our own writer. */
function infoText(values: [string, string, string][]): string {
  const writer = new InfoWriter();
  for (const [section, key, raw] of values) writer.value(section, key, raw);
  return writer.finish();
}

describe('the real pgBackRest 2.45 files', () => {
  it('there are the 12 info/manifest examples', () => {
    expect(INFO_FORMAT_EXAMPLES).toHaveLength(12);
  });

  it.each(INFO_FORMAT_EXAMPLES)(
    '%s parses, verifies its checksum and renders back byte for byte (ROUNDTRIP-IDENTICAL)',
    (name) => {
      const original = example(name);
      const document = parseInfo(original, name);
      expect(document.backrestVersion).toBe('2.45');
      const rendered = renderInfo(document);
      expect(rendered === original.toString('utf8')).toBe(true);
      console.log(`ROUNDTRIP-IDENTICAL ${name} (${original.length} bytes)`);
    },
  );

  it('computes the checksum of archive.info over the string shown in repo-format 2.4', () => {
    const hashed =
      '{"backrest":{"backrest-format":5,"backrest-version":"2.45"},"db":{"db-id":1,"db-system-id":7710482956265128591,"db-version":"15"},' +
      '"db:history":{"1":{"db-id":7710482956265128591,"db-version":"15"}}}';
    const sha1 = createHash('sha1').update(hashed).digest('hex');
    expect(sha1).toBe('778be7fd340fea135bbdc88c12c603d03ef89b81');
    expect(exampleText('archive.info')).toContain(`backrest-checksum="${sha1}"`);
    const reader = new InfoReader('archive.info', () => undefined);
    for (const line of exampleText('archive.info').split('\n')) reader.line(line);
    expect(reader.end()).toEqual({ backrestVersion: '2.45', checksum: sha1 });
  });

  it('keeps the system id exact', () => {
    const document = parseInfo(example('archive.info'), 'archive.info');
    expect(document.sections.get('db')?.get('db-system-id')).toBe(7710482956265128591n);
  });
});

describe('strict parsing', () => {
  it('splits key and value at the first = whose right side is valid JSON', () => {
    const text = infoText([
      ['target:file', 'pg_data/a=b', '{"size":1}'],
      ['target:file', 'pg_data/x=1=2', '3'],
      ['target:file', 'pg_data/x={"y":1}', 'true'],
    ]);
    expect(text).toContain('pg_data/a=b={"size":1}\n');
    const document = parseInfo(text, 'f');
    expect([...document.sections.get('target:file')!]).toEqual([
      ['pg_data/a=b', { size: 1 }],
      ['pg_data/x=1=2', 3],
      // '{"y":1}=true' is not JSON, but '1}=true' is not either: the split happens at the last '='
      ['pg_data/x={"y":1}', true],
    ]);
    expect(renderInfo(document)).toBe(text);
  });

  it('does not trim lines: the checksum covers the raw value text', () => {
    const text = infoText([['x', 'key', ' 1']]);
    expect(text).toContain('key= 1\n');
    expect(parseInfo(text, 'f').sections.get('x')?.get('key')).toBe(1);
  });

  it('escapes keys in the checksum the way pgBackRest does', () => {
    // A key with a tab and a quote: the checksum text holds "a\tb\"c"
    const text = infoText([['s', 'a\tb"c', '1']]);
    const hashed = '{"backrest":{"backrest-format":5,"backrest-version":"2.45"},"s":{"a\\tb\\"c":1}}';
    expect(text).toContain(`backrest-checksum="${createHash('sha1').update(hashed).digest('hex')}"`);
    expect(parseInfo(text, 'f').sections.get('s')?.get('a\tb"c')).toBe(1);
  });

  it('hashes in file order, so a file with unsorted sections still loads, and renders sorted', () => {
    const text = infoText([
      ['zeta', 'b', '2'],
      ['zeta', 'a', '1'],
      ['alpha', 'k', '"v"'],
    ]);
    const document = parseInfo(text, 'f');
    expect([...document.sections.keys()]).toEqual(['zeta', 'alpha']);
    const rendered = renderInfo(document);
    expect(rendered.indexOf('[alpha]')).toBeLessThan(rendered.indexOf('[zeta]'));
    expect(rendered.indexOf('a=1')).toBeLessThan(rendered.indexOf('b=2'));
    expect(parseInfo(rendered, 'g').sections.get('zeta')?.get('b')).toBe(2);
  });

  it('reads a file without backrest-version as written by pgkeep, and never renders a [backrest] section twice', () => {
    const sha1 = createHash('sha1').update('{"db":{"db-id":1}}').digest('hex');
    const document = parseInfo(`[db]\ndb-id=1\n\n[backrest]\nbackrest-checksum="${sha1}"\n`, 'f');
    expect(document.backrestVersion).toBe('2.45');
    document.sections.set('backrest', new Map([['backrest-format', 4]]));
    expect(renderInfo(document)).not.toContain('backrest-format=4');
  });

  it('keeps [db:history] in numeric order, not string order', () => {
    const text = infoText([
      ['db', 'db-id', '10'],
      ['db:history', '9', '{"db-id":1,"db-version":"14"}'],
      ['db:history', '10', '{"db-id":1,"db-version":"15"}'],
    ]);
    expect(renderInfo(parseInfo(text, 'f'))).toBe(text);
  });

  it('names file and line for an invalid JSON value', () => {
    const good = exampleText('archive.info');
    const bad = good.replace('db-version="15"\n\n[db:history]', 'db-version=15"\n\n[db:history]');
    const error = caught(() => parseInfo(bad, 'archive/demo/archive.info'));
    expect(error.errorName).toBe('FileInvalid');
    expect(error.message).toMatch(/^invalid JSON value \(.*\): db-version=15" at archive\/demo\/archive\.info:8$/);
  });

  it('rejects malformed lines with their line number', () => {
    const cases: [string, RegExp][] = [
      ['x=1\n', /key\/value found outside of a section: x=1 at f:1$/],
      ['[]\n', /invalid empty section '\[\]' at f:1$/],
      ['[s]\nnoequal\n', /missing '=' in key\/value: noequal at f:2$/],
      ['[s]\n=1\n', /key is zero-length: =1 at f:2$/],
      ['[s]\n\n\nk=[1\n', /invalid JSON value .* at f:4$/],
      ['[backrest]\nbackrest-checksum=1\n', /backrest-checksum must be a string at f:2$/],
      ['[backrest]\nbackrest-version=2\n', /backrest-version must be a string at f:2$/],
      [`[s]\nk=${'"'.padEnd(200, 'x')}\n`, /: k="x{114}\.\.\. at f:2$/],
    ];
    for (const [text, message] of cases) {
      const error = caught(() => parseInfo(text, 'f'));
      expect(error.errorName, text).toBe('FileInvalid');
      expect(error.message, text).toMatch(message);
    }
  });

  it('refuses a format other than 5', () => {
    const text = exampleText('archive.info').replace('backrest-format=5', 'backrest-format=4');
    const error = caught(() => parseInfo(text, 'archive.info'));
    expect(error.errorName).toBe('Format');
    expect(error.message).toBe('expected format 5 but found 4 at archive.info:2');
  });

  it('detects a changed value and a missing checksum', () => {
    const changed = exampleText('backup.info').replace('"backup-info-size":30406403', '"backup-info-size":30406404');
    const error = caught(() => parseInfo(changed, 'backup.info'));
    expect(error.errorName).toBe('Checksum');
    expect(error.message).toMatch(
      /^invalid checksum in 'backup\.info': actual '[0-9a-f]{40}' but expected '1bcaf376b594360e1bf901a3781e30c34a827bc4'$/,
    );

    const missing = exampleText('archive.info').replace(/\n\[backrest\]\nbackrest-checksum=.*\n$/, '');
    const noChecksum = caught(() => parseInfo(missing, 'archive.info'));
    expect(noChecksum.errorName).toBe('Checksum');
    expect(noChecksum.message).toMatch(/but no checksum found$/);
  });

  it('accepts a last line without a newline, and keeps CR as part of a line', () => {
    const text = exampleText('archive.info');
    expect(parseInfo(text.slice(0, -1), 'f').sections.get('db')?.get('db-id')).toBe(1);
    // '[backrest]\r' does not end with ']': it is not a section header (pgBackRest reads it the same way)
    const crlf = caught(() => parseInfo(text.replaceAll('\n', '\r\n'), 'f'));
    expect(crlf.errorName).toBe('FileInvalid');
    expect(crlf.message).toMatch(/key\/value found outside of a section: \[backrest\]\r at f:1$/);
    // A CR after a value is JSON whitespace, so the line reads, but the checksum covers it
    expect(caught(() => parseInfo(text.replace('db-id=1\n', 'db-id=1\r\n'), 'f')).errorName).toBe('Checksum');
  });
});

describe('InfoWriter', () => {
  it('refuses keys and values that would not read back', () => {
    const writer = new InfoWriter();
    expect(() => writer.value('s', '', '1')).toThrow(/empty, or contains a line break/);
    expect(() => writer.value('s', 'a\nb', '1')).toThrow(/line break/);
    expect(() => writer.value('s', 'k', '[1]')).toThrow(/not a JSON scalar or object/);
    expect(() => writer.value('s', 'k', '')).toThrow(/not a JSON scalar or object/);
    // A key with '=' is checked against the reader's split
    expect(() => writer.value('s', 'a=1', 'x')).toThrow(
      "cannot write key 'a=1' with value 'x': it would not read back as written",
    );
    writer.value('s', 'a=1', '2');
  });

  it('hands out text in pieces', () => {
    const writer = new InfoWriter();
    writer.value('s', 'k', '1');
    expect(writer.pendingLength).toBeGreaterThan(0);
    const first = writer.take();
    expect(writer.pendingLength).toBe(0);
    const rest = writer.finish();
    expect(first + rest).toBe(infoText([['s', 'k', '1']]));
  });
});

describe('forEachLine', () => {
  it('splits lines across chunk boundaries, also inside multi-byte characters', async () => {
    const text = 'ab\néé✓\n\nlast';
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset += 3) chunks.push(bytes.subarray(offset, offset + 3));
    const lines: string[] = [];
    await forEachLine(Readable.from(chunks), (line) => lines.push(line));
    expect(lines).toEqual(['ab', 'éé✓', '', 'last']);
    const fromStrings: string[] = [];
    await forEachLine(Readable.from(['x\ny', '\n'], { objectMode: true }), (line) => fromStrings.push(line));
    expect(fromStrings).toEqual(['x', 'y']);
  });
});

describe('loadInfoFile and saveInfoFile', () => {
  const path = 'archive/demo/archive.info';

  it('loads the main file when it is valid', async () => {
    const storage = new MemoryStorage({ [path]: example('archive.info'), [`${path}.copy`]: 'garbage' });
    const loaded = await loadInfoFile(storage, path);
    expect(loaded.file).toBe(`/memory/${path}`);
    expect(loaded.value.sections.get('db')?.get('db-id')).toBe(1);
  });

  it('uses the .copy when the main file has a corrupted checksum', async () => {
    const corrupted = exampleText('archive.info').replace('"15"}', '"16"}');
    const storage = new MemoryStorage({ [path]: corrupted, [`${path}.copy`]: example('archive.info') });
    const loaded = await loadInfoFile(storage, path);
    expect(loaded.file).toBe(`/memory/${path}.copy`);
    expect(loaded.value.sections.get('db:history')?.get('1')).toEqual({ 'db-id': 7710482956265128591n, 'db-version': '15' });
  });

  it('uses the .copy when the main file is missing', async () => {
    const storage = new MemoryStorage({ [`${path}.copy`]: example('archive.info') });
    expect((await loadInfoFile(storage, path)).file).toBe(`/memory/${path}.copy`);
  });

  it('fails naming both files and both reasons when both are bad', async () => {
    const storage = new MemoryStorage({
      [path]: exampleText('archive.info').replace('"15"}', '"16"}'),
      [`${path}.copy`]: exampleText('archive.info').replace('db-id=1', 'db-id=1}'),
    });
    const error = await rejected(loadInfoFile(storage, path));
    expect(error.errorName).toBe('FileInvalid');
    expect(error.message).toContain(`unable to load info file '/memory/${path}' or '/memory/${path}.copy':`);
    expect(error.message).toMatch(new RegExp(`\\n  /memory/${path}: \\[Checksum\\] invalid checksum in '/memory/${path}'`));
    expect(error.message).toMatch(
      new RegExp(`\\n  /memory/${path}\\.copy: \\[FileInvalid\\] invalid JSON value .* at /memory/${path}\\.copy:6`),
    );
    expect(error.hint).toMatch(/both the file and its copy are damaged/);
  });

  it('reports the other reason when one file is missing and the other invalid, and FileMissing when both are', async () => {
    const oneMissing = new MemoryStorage({ [`${path}.copy`]: exampleText('archive.info').replace('"15"}', '"16"}') });
    expect((await rejected(loadInfoFile(oneMissing, path))).errorName).toBe('Checksum');
    const mainMissing = new MemoryStorage({ [path]: exampleText('archive.info').replace('"15"}', '"16"}') });
    expect((await rejected(loadInfoFile(mainMissing, path))).errorName).toBe('Checksum');
    const bothMissing = await rejected(loadInfoFile(new MemoryStorage(), path));
    expect(bothMissing.errorName).toBe('FileMissing');
    expect(bothMissing.message).toContain(`unable to open missing file '/memory/${path}' for read`);
    expect(bothMissing.message).toContain(`unable to open missing file '/memory/${path}.copy' for read`);
    expect(bothMissing.hint).toMatch(/stanza-create/);
  });

  it('refuses an encrypted file read without a passphrase, and takes a damaged encrypted one from its copy', async () => {
    const storage = new MemoryStorage({
      [path]: Buffer.concat([Buffer.from('Salted__'), Buffer.alloc(24)]),
      [`${path}.copy`]: Buffer.concat([Buffer.from('Salted__'), Buffer.alloc(24)]),
    });
    const error = await rejected(loadInfoFile(storage, path));
    expect(error.errorName).toBe('Crypto');
    expect(error.message).toContain(`'/memory/${path}' is encrypted, but repo-cipher-type is none`);
    expect(error.hint).toContain('set repo-cipher-type=aes-256-cbc');

    await saveInfoFile(storage, path, exampleText('archive.info'), 'pass');
    expect((await loadInfoFile(storage, path, 'pass')).file).toBe(`/memory/${path}`);
    const damaged = Buffer.from(storage.files.get(path)!);
    damaged[damaged.length - 1]! ^= 1;
    storage.files.set(path, damaged);
    const loaded = await loadInfoFile(storage, path, 'pass');
    expect(loaded.file).toBe(`/memory/${path}.copy`);
    // Both unreadable with this passphrase: the hint is about the passphrase
    const wrong = await rejected(loadInfoFile(storage, path, 'wrong'));
    expect(wrong.errorName).toBe('Crypto');
    expect(wrong.hint).toContain('check repo-cipher-pass');
    // Decrypted text that does not start as an info file's is what a wrong passphrase gives when
    // the padding happens to check out (once in 256): a wrong passphrase, not a format error
    for (const file of [path, `${path}.copy`]) storage.files.set(file, encryptBuffer(Buffer.from('noise'), 'pass'));
    const noise = await rejected(loadInfoFile(storage, path, 'pass'));
    expect(noise.errorName).toBe('Crypto');
    expect(noise.message).toContain(`unable to decrypt '/memory/${path}': wrong passphrase, or the file is damaged`);
  });

  it('turns errors of other kinds into PgkeepErrors', async () => {
    const error = await rejected(
      loadWithCopyFallback('x', async (file) => {
        throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES' });
      }),
    );
    expect(error.errorName).toBe('Access');
    expect(error.message).toContain("\n  x.copy: [Access] EACCES: permission denied, open 'x.copy'");
  });

  it('writes the main file first, then the identical copy (pgBackRest 2.45 infoSaveFile order)', async () => {
    const storage = new MemoryStorage();
    await saveInfoFile(storage, path, exampleText('archive.info'));
    expect(storage.writes).toEqual([path, `${path}.copy`]);
    expect(storage.text(path)).toBe(exampleText('archive.info'));
    expect(storage.text(`${path}.copy`)).toBe(exampleText('archive.info'));
    await saveInfoFile(storage, 'b', Buffer.from('x'));
    expect(storage.text('b.copy')).toBe('x');
  });
});
