import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { isPgkeepError, type PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import { InfoWriter, parseInfo } from '../../../../../engine/repo/info/info-codec.js';
import {
  assertRestorable,
  fileChecksum,
  fileHasPageError,
  loadManifestFile,
  readManifestFile,
  manifestReferenceLabel,
  parseManifest,
  parseManifestStream,
  renderManifest,
  renderManifestChunks,
  saveManifestFile,
  SHA1_EMPTY,
  type Manifest,
} from '../../../../../engine/repo/manifest/manifest.js';
import { example, exampleText, MANIFEST_EXAMPLES } from '../examples.js';
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

/** Rewrites a manifest text: edits its lines, then recomputes the checksum with our writer. */
function edit(text: string, change: (lines: string[]) => string[]): string {
  const document = text.split('\n');
  const body = change(document.slice(0, document.indexOf('[backrest]', 1)));
  const writer = new InfoWriter();
  let section = '';
  for (const line of body) {
    if (line === '') continue;
    if (line.startsWith('[')) {
      section = line.slice(1, -1);
      continue;
    }
    if (section === 'backrest') continue;
    const equal = line.indexOf('={') > 0 ? line.indexOf('={') : line.indexOf('=');
    writer.value(section, line.slice(0, equal), line.slice(equal + 1));
  }
  return writer.finish();
}

const full = () => parseManifest(example('full-lz4.backup.manifest'), 'full-lz4.backup.manifest');

describe('round trip of the real manifests', () => {
  it.each(MANIFEST_EXAMPLES)('%s renders back byte for byte through the typed model', (name) => {
    const manifest = parseManifest(example(name), name);
    expect(renderManifest(manifest) === exampleText(name)).toBe(true);
  });

  it.each(MANIFEST_EXAMPLES)('%s reads the same from a stream of 7-byte chunks', async (name) => {
    const manifest = await parseManifestStream(Readable.from([...chunks(example(name), 7)]), name);
    expect(renderManifest(manifest) === exampleText(name)).toBe(true);
  });
});

function* chunks(buffer: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < buffer.length; offset += size) yield buffer.subarray(offset, offset + size);
}

describe('the model', () => {
  it('reads [backup], [backup:db], [backup:option] and the targets', () => {
    const manifest = parseManifest(example('diff-lz4.backup.manifest'), 'm');
    expect(manifest.backrestVersion).toBe('2.45');
    expect(manifest.backup).toEqual({
      label: '20261121-045159F_20261121-045203D',
      type: 'diff',
      prior: '20261121-045159F',
      reference: ['20261121-045159F', '20261121-045159F_20261121-045203D'],
      archiveStart: '000000010000000000000006',
      archiveStop: '000000010000000000000006',
      lsnStart: '0/6000028',
      lsnStop: '0/6000138',
      timestampCopyStart: 1795236725,
      timestampStart: 1795236723,
      timestampStop: 1795236725,
      blockIncr: false,
      bundle: false,
      bundleRaw: false,
    });
    expect(manifest.db).toEqual({
      catalogVersion: 202209061,
      controlVersion: 1300,
      id: 1,
      systemId: 7710482956265128591n,
      version: '15',
    });
    expect(manifest.options).toEqual({
      archiveCheck: true,
      archiveCopy: false,
      backupStandby: false,
      bufferSize: 1048576,
      checksumPage: true,
      compressType: 'lz4',
      compressLevel: 1,
      compressLevelNetwork: 3,
      delta: false,
      hardlink: false,
      online: true,
      processMax: 1,
    });
    expect(manifest.targets.get('pg_tblspc/16384')).toEqual({
      name: 'pg_tblspc/16384',
      type: 'link',
      path: '/srv/pg/ts1',
      file: undefined,
      tablespaceId: 16384,
      tablespaceName: 'ts1',
      unknown: undefined,
    });
    expect(manifest.databases.get('postgres')).toEqual({ name: 'postgres', id: 5, lastSystemId: 4, unknown: undefined });
    expect(manifest.links.get('pg_data/pg_tblspc/16384')).toEqual({
      name: 'pg_data/pg_tblspc/16384',
      destination: '/srv/pg/ts1',
      user: 'postgres',
      group: 'postgres',
      unknown: undefined,
    });
    expect(manifest.paths.get('pg_data')).toEqual({
      name: 'pg_data',
      user: 'postgres',
      group: 'postgres',
      mode: 0o700,
      unknown: undefined,
    });
    expect(manifest.cipherPass).toBeUndefined();
    expect(manifest.blockIncremental).toBe(false);
  });

  it('applies the file defaults and fills implied values', () => {
    const manifest = parseManifest(example('incr-lz4.backup.manifest'), 'm');
    const empty = manifest.files.get('pg_data/base/1/13394')!;
    expect(empty).toMatchObject({
      size: 0,
      sizeRepo: 15,
      checksum: undefined,
      checksumPage: true,
      reference: '20261121-045159F',
      user: 'postgres',
      group: 'postgres',
      mode: 0o600,
    });
    expect(fileChecksum(empty)).toBe(SHA1_EMPTY);
    const conf = manifest.files.get('pg_data/postgresql.conf')!;
    expect(fileChecksum(conf)).toBe('92c8440b9f63a566203fb3445ffef4404f091b56');
    expect(conf.checksumRepo).toBe('0458c86ae5ca763f3026e667be75cde9206a53d4');
    expect(manifestReferenceLabel(manifest, conf)).toBe('20261121-045159F');
    // References share one string per label
    const references = [...manifest.files.values()].map((file) => file.reference).filter((label) => label === '20261121-045159F');
    expect(references.length).toBeGreaterThan(100);
    // Without compression, repo-size is implied
    const none = parseManifest(example('full-none.backup.manifest'), 'm').files.get('pg_data/postgresql.conf')!;
    expect(none.sizeRepo).toBe(none.size);
    expect(none.checksumRepo).toBeUndefined();
  });

  it('models bundles and block incremental, and refuses to restore block incremental', () => {
    const manifest = parseManifest(example('full-bundle-blockincr.backup.manifest'), 'm');
    expect(manifest.backup).toMatchObject({ blockIncr: true, bundle: true, bundleRaw: true });
    expect(manifest.files.get('pg_data/PG_VERSION')).toMatchObject({ bundleId: 1, bundleOffset: 4189999, sizeRepo: 18, size: 3 });
    expect(manifest.files.get('pg_data/base/1/1249')).toMatchObject({ bundleId: 2, blockIncrSize: 8192, blockIncrMapSize: 343 });
    expect(manifest.files.get('pg_data/base/1/1249')!.bundleOffset).toBeUndefined();
    expect(manifest.blockIncremental).toBe(true);
    const error = caught(() => assertRestorable(manifest));
    expect(error.errorName).toBe('FeatureNotSupported');
    expect(error.message).toBe("backup '20261121-045219F' uses block incremental, which pgkeep cannot restore yet");

    // A file with bi is enough, even without backup-block-incr
    const fileOnly = parseManifest(
      edit(exampleText('full-bundle-blockincr.backup.manifest'), (lines) =>
        lines.filter((line) => line !== 'backup-block-incr=true'),
      ),
      'm',
    );
    expect(fileOnly.backup.blockIncr).toBe(false);
    expect(fileOnly.blockIncremental).toBe(true);
    fileOnly.blockIncremental = false;
    expect(caught(() => assertRestorable(fileOnly)).errorName).toBe('FeatureNotSupported');

    expect(() => assertRestorable(full())).not.toThrow();
  });

  it('reads the passphrase of the files of a backup in an encrypted repository', () => {
    const manifest = parseManifest(example('encrypted-repo.backup.manifest.decrypted'), 'm');
    expect(manifest.cipherPass).toBe('2OcUTwoKU2LZhjsgIwjEtrYw2MkFMQbkxL4z73gd7ydmTC4snxFAX1uC79ZI0giM');
    expect(() => assertRestorable(manifest)).not.toThrow();
    expect(renderManifest(manifest)).toBe(exampleText('encrypted-repo.backup.manifest.decrypted'));
  });

  it('writes owners and modes only where they differ from pg_data, false for unmapped ids', () => {
    const manifest = full();
    const file = manifest.files.get('pg_data/postgresql.conf')!;
    file.user = 'root';
    file.group = false;
    file.mode = 0o644;
    manifest.paths.get('pg_data/base')!.mode = 0o750;
    manifest.paths.get('pg_data/global')!.user = false;
    Object.assign(manifest.paths.get('pg_data/pg_wal')!, { user: 'a', group: 'b', mode: 0o750 });
    manifest.links.get('pg_data/pg_tblspc/16384')!.group = 'other';
    const text = renderManifest(manifest);
    expect(text).toContain(
      'pg_data/postgresql.conf={"checksum":"92c8440b9f63a566203fb3445ffef4404f091b56","group":false,"mode":"0644","repo-size":14313,"size":29793,"timestamp":1795236710,"user":"root"}\n',
    );
    expect(text).toContain('pg_data/base={"mode":"0750"}\n');
    expect(text).toContain('pg_data/global={"user":false}\n');
    expect(text).toContain('pg_data/pg_wal={"group":"b","mode":"0750","user":"a"}\n');
    expect(text).toContain('pg_data/pg_tblspc/16384={"destination":"/srv/pg/ts1","group":"other"}\n');
    const again = parseManifest(text, 'm');
    expect(again.files.get('pg_data/postgresql.conf')).toEqual(file);
    expect(again.paths.get('pg_data/global')!.user).toBe(false);
    expect(renderManifest(again)).toBe(text);
  });

  it('derives the defaults from pg_data when saving: file mode = pg_data mode & 0640', () => {
    const manifest = full();
    for (const path of manifest.paths.values()) path.mode = 0o750;
    for (const file of manifest.files.values()) file.mode = 0o640;
    manifest.paths.get('pg_data')!.user = false;
    const text = renderManifest(manifest);
    expect(text).toContain('[target:file:default]\ngroup="postgres"\nmode="0640"\nuser=false\n');
    expect(text).toContain('[target:path:default]\ngroup="postgres"\nmode="0750"\nuser=false\n');
    expect(text).toContain('[target:link:default]\ngroup="postgres"\nuser=false\n');
    // Every other entry now has a user that differs from the default
    expect(text).toContain('pg_data/base={"user":"postgres"}\n');
    const again = parseManifest(text, 'm');
    expect(again.files.get('pg_data/PG_VERSION')).toMatchObject({ user: 'postgres', mode: 0o640 });
    expect(again.paths.get('pg_data')!.user).toBe(false);
  });

  it('reads manifests of older versions without the options added later', () => {
    const optional = [
      'option-backup-standby',
      'option-buffer-size',
      'option-checksum-page',
      'option-compress-level',
      'option-compress-level-network',
      'option-delta',
      'option-process-max',
      'backup-timestamp-copy-start',
    ];
    const text = edit(exampleText('full-lz4.backup.manifest'), (lines) =>
      lines.filter((line) => !optional.some((key) => line.startsWith(`${key}=`))),
    );
    const manifest = parseManifest(text, 'm');
    expect(manifest.options).toEqual({
      archiveCheck: true,
      archiveCopy: false,
      backupStandby: undefined,
      bufferSize: undefined,
      checksumPage: undefined,
      compressType: 'lz4',
      compressLevel: undefined,
      compressLevelNetwork: undefined,
      delta: undefined,
      hardlink: false,
      online: true,
      processMax: undefined,
    });
    expect(manifest.backup.timestampCopyStart).toBe(0);
    // pgBackRest always writes backup-timestamp-copy-start
    expect(renderManifest(manifest)).toBe(
      edit(text, (lines) =>
        lines.flatMap((line) => (line.startsWith('backup-timestamp-start=') ? ['backup-timestamp-copy-start=0', line] : [line])),
      ),
    );
  });

  it('writes no file or link sections when there are none, and bundle-raw only when set', () => {
    const manifest = parseManifest(example('full-bundle-blockincr.backup.manifest'), 'm');
    manifest.files.clear();
    manifest.links.clear();
    manifest.backup.bundleRaw = false;
    const text = renderManifest(manifest);
    expect(text).not.toMatch(/\[target:file|\[target:link|backup-bundle-raw/);
    expect(text).toContain('backup-bundle=true\n');
    const again = parseManifest(text, 'm');
    expect(again.files.size).toBe(0);
    expect(again.blockIncremental).toBe(true);
    expect(manifestReferenceLabel(again, { ...full().files.get('pg_data/PG_VERSION')! })).toBe('20261121-045219F');
  });

  it('refuses to save without a pg_data path', () => {
    const manifest = full();
    manifest.paths.delete('pg_data');
    expect(() => renderManifest(manifest)).toThrow(/has no pg_data path/);
  });

  it('keeps page checksum errors', () => {
    const text = edit(exampleText('full-lz4.backup.manifest'), (lines) =>
      lines.map((line) =>
        line.startsWith('pg_data/base/5/16385=')
          ? line.replace('"checksum-page":true', '"checksum-page":false,"checksum-page-error":[1,[3,5]]')
          : line,
      ),
    );
    const manifest = parseManifest(text, 'm');
    const file = manifest.files.get('pg_data/base/5/16385')!;
    expect(file.checksumPage).toBe(false);
    expect(file.checksumPageError).toEqual([1, [3, 5]]);
    expect(fileHasPageError(file)).toBe(true);
    expect(renderManifest(manifest)).toBe(text);
  });

  it('keeps keys and sections it does not know (szo of newer pgBackRest, future sections)', () => {
    const text = edit(exampleText('full-lz4.backup.manifest'), (lines) => [
      ...lines.map((line) => {
        if (line.startsWith('pg_data/PG_VERSION=')) return line.replace('"size":3,', '"size":3,"szo":4,');
        if (line.startsWith('pg_data={"path"')) return line.replace('"type":"path"', '"type":"path","zz":1');
        if (line.startsWith('postgres={')) return line.replace('}', ',"x":true}');
        if (line.startsWith('pg_data/base={')) return 'pg_data/base={"aa":1}';
        if (line.startsWith('pg_data/pg_tblspc/16384={')) return line.replace('}', ',"zz":"y"}');
        return line;
      }),
      '[zfuture]',
      'k={"b":2,"a":1}',
    ]);
    const manifest = parseManifest(text, 'm');
    expect(manifest.files.get('pg_data/PG_VERSION')!.unknown).toEqual({ szo: 4 });
    expect(manifest.targets.get('pg_data')!.unknown).toEqual({ zz: 1 });
    expect(manifest.databases.get('postgres')!.unknown).toEqual({ x: true });
    expect(manifest.paths.get('pg_data/base')!.unknown).toEqual({ aa: 1 });
    expect(manifest.links.get('pg_data/pg_tblspc/16384')!.unknown).toEqual({ zz: 'y' });
    expect(manifest.extra.get('zfuture')?.get('k')).toEqual({ a: 1, b: 2 });
    const rendered = renderManifest(manifest);
    expect(rendered).toContain(
      'pg_data/PG_VERSION={"checksum":"587b596f04f7db9c2cad3d6b87dd2b3a05de4f35","rck":"bfa569d98ca391dc0326bc92fe80b8b6eb9f1f1b","repo-size":22,"size":3,"szo":4,"timestamp":1795236709}\n',
    );
    expect(rendered).toContain('\n[zfuture]\nk={"a":1,"b":2}\n');
    expect(parseManifest(rendered, 'm').files.get('pg_data/PG_VERSION')!.unknown).toEqual({ szo: 4 });
    expect(renderManifest(parseManifest(rendered, 'm'))).toBe(rendered);
  });

  it('keeps unknown keys of bundled block-incremental files', () => {
    const text = edit(exampleText('full-bundle-blockincr.backup.manifest'), (lines) =>
      lines.map((line) =>
        line.startsWith('pg_data/base/1/1247=')
          ? line.replace('"bi":1,', '"bi":1,"bic":8,').replace('"size":122880,', '"size":122880,"szo":1,')
          : line,
      ),
    );
    const manifest = parseManifest(text, 'm');
    expect(manifest.files.get('pg_data/base/1/1247')).toMatchObject({ blockIncrChecksumSize: 8, unknown: { szo: 1 } });
    expect(renderManifest(manifest)).toBe(text);
  });

  it('keeps unknown keys of scalar sections in sorted order', () => {
    const text = edit(exampleText('full-lz4.backup.manifest'), (lines) =>
      lines.flatMap((line) =>
        line === 'backup-type="full"'
          ? [line, 'backup-zzz=5']
          : line === 'option-online=true'
            ? ['option-newer="x"', line]
            : [line],
      ),
    );
    const manifest = parseManifest(text, 'm');
    expect(manifest.extra.get('backup')?.get('backup-zzz')).toBe(5);
    expect(renderManifest(manifest)).toBe(text);
  });

  it('derives backup-reference from the files for manifests before 2.42', () => {
    const text = edit(exampleText('incr-lz4.backup.manifest'), (lines) =>
      lines.filter((line) => !line.startsWith('backup-reference=')),
    );
    const manifest = parseManifest(text, 'm');
    expect(manifest.backup.reference).toEqual([
      '20261121-045159F',
      '20261121-045159F_20261121-045203D',
      '20261121-045159F_20261121-045206I',
      '20261121-045159F_20261121-045207I',
    ]);
    expect(renderManifest(manifest)).toBe(exampleText('incr-lz4.backup.manifest'));
  });

  it('writes option-compress from the compress type, and reads old manifests without option-compress-type as gz', () => {
    const text = edit(exampleText('full-lz4.backup.manifest'), (lines) =>
      lines.filter((line) => !line.startsWith('option-compress-type=')),
    );
    expect(parseManifest(text, 'm').options.compressType).toBe('gz');
    const none = edit(text, (lines) => lines.map((line) => (line === 'option-compress=true' ? 'option-compress=false' : line)));
    expect(parseManifest(none, 'm').options.compressType).toBe('none');
    const bad = edit(exampleText('full-lz4.backup.manifest'), (lines) =>
      lines.map((line) => (line.startsWith('option-compress-type=') ? 'option-compress-type="lzma"' : line)),
    );
    expect(caught(() => parseManifest(bad, 'm')).message).toBe("compress type 'lzma' is not known in [backup:option] of 'm'");
  });

  it('writes files in byte order even when added out of order', () => {
    const manifest = full();
    const entries = [...manifest.files.entries()].reverse();
    manifest.files.clear();
    for (const [name, file] of entries) manifest.files.set(name, file);
    expect(renderManifest(manifest)).toBe(exampleText('full-lz4.backup.manifest'));
  });

  it('hands out the text in pieces that add up to the file', () => {
    const pieces = [...renderManifestChunks(parseManifest(example('diff-lz4.backup.manifest'), 'm'))];
    expect(pieces.join('')).toBe(exampleText('diff-lz4.backup.manifest'));
  });

  it('rejects damaged entries naming the file, section, entry and line', () => {
    const replaceLine = (prefix: string, to: string) =>
      edit(exampleText('full-lz4.backup.manifest'), (lines) => lines.map((line) => (line.startsWith(prefix) ? to : line)));
    const cases: [string, string, string][] = [
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION={"checksum":"587b596f04f7db9c2cad3d6b87dd2b3a05de4f35","timestamp":1}',
        "missing key 'size' in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION={"size":1}',
        "missing key 'timestamp' in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION={"size":"1","timestamp":1}',
        "value of 'size' is not an integer in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION={"size":1,"timestamp":"1"}',
        "value of 'timestamp' is not an integer in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION={"checksum":"ABC","size":1,"timestamp":1}',
        "value of 'checksum' is not a SHA-1 in lower-case hex in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION={"repo-size":-1,"size":1,"timestamp":1}',
        "value of 'repo-size' is negative in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION={"mode":"rw","size":1,"timestamp":1}',
        "value 'rw' of 'mode' is not an octal mode in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION={"size":1,"timestamp":1,"user":true}',
        "value of 'user' is not a name or false in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION={"reference":1,"size":1,"timestamp":1}',
        "value of 'reference' is not a string in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION={"checksum-page":1,"size":1,"timestamp":1}',
        "value of 'checksum-page' is not true or false in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION={"checksum-page-error":1,"size":1,"timestamp":1}',
        "value of 'checksum-page-error' is not an array in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data/PG_VERSION=',
        'pg_data/PG_VERSION=1',
        "expected a JSON object in [target:file] 'pg_data/PG_VERSION' (line 49) of 'm'",
      ],
      [
        'pg_data={"path"',
        'pg_data={"path":"/x","type":"dir"}',
        "target type 'dir' is not 'path' or 'link' in [backup:target] 'pg_data' (line 40) of 'm'",
      ],
      [
        'pg_tblspc/16384={',
        'pg_tblspc/16384={"path":"/x","tablespace-id":"x","tablespace-name":"t","type":"link"}',
        "tablespace-id 'x' is not an oid in [backup:target] 'pg_tblspc/16384' (line 41) of 'm'",
      ],
      [
        'pg_tblspc/16384={',
        'pg_tblspc/16384={"path":"/x","tablespace-id":"1","type":"link"}',
        "missing key 'tablespace-name' in [backup:target] 'pg_tblspc/16384' (line 41) of 'm'",
      ],
      ['postgres={', 'postgres={"db-id":5}', "missing key 'db-last-system-id' in [db] 'postgres' (line 44) of 'm'"],
      [
        'pg_data/pg_tblspc/16384={',
        'pg_data/pg_tblspc/16384={}',
        "missing key 'destination' in [target:link] 'pg_data/pg_tblspc/16384' (line 1028) of 'm'",
      ],
      ['backup-type=', 'backup-type="weekly"', "backup type 'weekly' is not full, diff or incr in [backup] of 'm'"],
      ['backup-label=', 'backup-label=1', "value of 'backup-label' is not a string in [backup] of 'm'"],
      ['db-system-id=', 'db-system-id="x"', "value of 'db-system-id' is not an integer in [backup:db] of 'm'"],
      ['option-online=', 'option-online="y"', "value of 'option-online' is not true or false in [backup:option] of 'm'"],
    ];
    for (const [prefix, line, message] of cases) {
      const error = caught(() => parseManifest(replaceLine(prefix, line), 'm'));
      expect(error.errorName, line).toBe('FileInvalid');
      expect(error.message, line).toBe(message);
    }
  });

  it('needs a default only when an entry uses it', () => {
    const noFileMode = edit(exampleText('full-lz4.backup.manifest'), (lines) => lines.filter((line) => line !== 'mode="0600"'));
    expect(caught(() => parseManifest(noFileMode, 'm')).message).toBe("missing default 'mode' in [target:file:default] of 'm'");
    const noLinkDefault = edit(exampleText('full-lz4.backup.manifest'), (lines) => {
      const start = lines.indexOf('[target:link:default]');
      return [...lines.slice(0, start), ...lines.slice(start + 3)];
    });
    expect(caught(() => parseManifest(noLinkDefault, 'm')).message).toBe(
      "missing default 'user' in [target:link:default] of 'm'",
    );
    const badUser = edit(exampleText('full-lz4.backup.manifest'), (lines) =>
      lines.map((line, index) => (line === 'user="postgres"' && lines[index - 1] === 'mode="0600"' ? 'user=true' : line)),
    );
    expect(caught(() => parseManifest(badUser, 'm')).message).toBe(
      "value of 'user' is not a name or false in [target:file:default] of 'm'",
    );
  });

  it('reads annotations and rejects a non-object one', () => {
    const withMetadata = (value: string) => (lines: string[]) =>
      lines.flatMap((line) => (line === '[target:file]' ? ['[metadata]', `annotation=${value}`, line] : [line]));
    const text = edit(exampleText('full-lz4.backup.manifest'), withMetadata('{"team":"db"}'));
    const manifest = parseManifest(text, 'm');
    expect(manifest.annotation).toEqual({ team: 'db' });
    expect(renderManifest(manifest)).toBe(text);
    const bad = edit(exampleText('full-lz4.backup.manifest'), withMetadata('"x"'));
    expect(caught(() => parseManifest(bad, 'm')).message).toBe("value of 'annotation' is not an object in [metadata] of 'm'");
  });

  it('parses keys containing = and renders them back', () => {
    const text = edit(exampleText('full-lz4.backup.manifest'), (lines) =>
      lines.map((line) => (line.startsWith('pg_data/PG_VERSION=') ? line.replace('pg_data/PG_VERSION=', 'pg_data/a=b=') : line)),
    );
    const manifest = parseManifest(text, 'm');
    expect(manifest.files.has('pg_data/a=b')).toBe(true);
    expect(parseInfo(renderManifest(manifest), 'm').sections.get('target:file')?.has('pg_data/a=b')).toBe(true);
  });
});

describe('manifest files in storage', () => {
  const path = 'backup/demo/20261121-045159F/backup.manifest';

  it('loads from a stream, falling back to the copy', async () => {
    const corrupted = exampleText('full-lz4.backup.manifest').replace('"size":3,', '"size":4,');
    const storage = new MemoryStorage({ [path]: corrupted, [`${path}.copy`]: example('full-lz4.backup.manifest') });
    const loaded = await loadManifestFile(storage, path);
    expect(loaded.file).toBe(`/memory/${path}.copy`);
    expect(loaded.value.backup.label).toBe('20261121-045159F');
  });

  it('fails naming both files when both are bad', async () => {
    const storage = new MemoryStorage({ [path]: 'x=1\n' });
    await expect(loadManifestFile(storage, path)).rejects.toThrow(
      new RegExp(
        `^unable to load manifest '/memory/${path}' or '/memory/${path}\\.copy':\\n  /memory/${path}: \\[FileInvalid\\] key/value found outside of a section: x=1 at /memory/${path}:1\\n  /memory/${path}\\.copy: \\[FileMissing\\]`,
      ),
    );
  });

  it('refuses an encrypted manifest read without a passphrase; saves and loads one with it', async () => {
    const storage = new MemoryStorage({ [path]: Buffer.concat([Buffer.from('Salted__'), Buffer.alloc(100)]) });
    await expect(loadManifestFile(storage, path)).rejects.toMatchObject({ errorName: 'Crypto' });

    const manifest = parseManifest(example('encrypted-repo.backup.manifest.decrypted'), 'm');
    await saveManifestFile(storage, path, manifest, { cipherPass: 'manifest-pass' });
    expect(storage.files.get(path)!.subarray(0, 8).toString()).toBe('Salted__');
    expect(renderManifest((await loadManifestFile(storage, path, 'manifest-pass')).value)).toBe(
      exampleText('encrypted-repo.backup.manifest.decrypted'),
    );
    expect(renderManifest(await readManifestFile(storage, `${path}.copy`, 'manifest-pass'))).toBe(
      exampleText('encrypted-repo.backup.manifest.decrypted'),
    );
    await expect(readManifestFile(storage, path, 'wrong')).rejects.toMatchObject({ errorName: 'Crypto' });
    // A plain manifest of an encrypted repository's backup: refused, its files could not be read
    await saveManifestFile(storage, path, manifest);
    await expect(readManifestFile(storage, path)).rejects.toThrow('has a cipher passphrase, but repo-cipher-type is none');
    await saveManifestFile(storage, path, full(), { cipherPass: 'manifest-pass' });
    await expect(readManifestFile(storage, path, 'manifest-pass')).rejects.toThrow(
      'has no cipher passphrase, but it is encrypted',
    );
  });

  it('saves the copy first, then the manifest, both identical; copyOnly writes the checkpoint only', async () => {
    const storage = new MemoryStorage();
    const manifest: Manifest = full();
    await saveManifestFile(storage, path, manifest, { copyOnly: true });
    expect(storage.writes).toEqual([`${path}.copy`]);
    await saveManifestFile(storage, path, manifest);
    expect(storage.writes).toEqual([`${path}.copy`, `${path}.copy`, path]);
    expect(storage.text(path)).toBe(exampleText('full-lz4.backup.manifest'));
    expect(storage.text(`${path}.copy`)).toBe(exampleText('full-lz4.backup.manifest'));
  });
});
