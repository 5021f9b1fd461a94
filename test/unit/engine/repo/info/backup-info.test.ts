import { describe, expect, it } from 'vitest';

import { isPgkeepError, type PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import {
  addBackup,
  backupDependents,
  backupInfoAddHistory,
  backupInfoCurrent,
  backupInfoEntryFromManifest,
  backupInfoFindHistory,
  findBackup,
  loadBackupInfo,
  manifestSizes,
  newBackupInfo,
  parseBackupInfo,
  removeBackup,
  renderBackupInfo,
  saveBackupInfo,
  type BackupInfoEntry,
} from '../../../../../engine/repo/info/backup-info.js';
import { InfoWriter } from '../../../../../engine/repo/info/info-codec.js';
import { parseManifest } from '../../../../../engine/repo/manifest/manifest.js';
import { BACKUP_INFO_EXAMPLES, example, exampleText } from '../examples.js';
import { MemoryStorage } from '../memory-storage.js';

const SYSTEM_ID = 7710482956265128591n;

function caught(action: () => unknown): PgkeepError {
  try {
    action();
  } catch (error) {
    if (isPgkeepError(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('backup.info', () => {
  it.each(BACKUP_INFO_EXAMPLES)('%s loads into the typed model and renders back byte for byte', (name) => {
    const info = parseBackupInfo(example(name), name);
    expect(renderBackupInfo(info)).toBe(exampleText(name));
    expect(info.backups.map((entry) => entry.label)).toEqual([...info.backups.map((entry) => entry.label)].sort());
  });

  it('types every key of a [backup:current] entry', () => {
    const info = parseBackupInfo(example('backup.info.with-foreign'), 'backup.info');
    expect(info.history).toEqual([
      { id: 1, systemId: SYSTEM_ID, version: '15', catalogVersion: 202209061, controlVersion: 1300 },
    ]);
    expect(backupInfoCurrent(info).id).toBe(1);
    const diff = findBackup(info, '20261121-045159F_20261121-045203D');
    expect(diff).toEqual({
      label: '20261121-045159F_20261121-045203D',
      backrestFormat: 5,
      backrestVersion: '2.45',
      annotation: undefined,
      archiveStart: '000000010000000000000006',
      archiveStop: '000000010000000000000006',
      error: false,
      repoSize: 8968165,
      repoSizeDelta: 4660689,
      repoSizeMap: undefined,
      repoSizeMapDelta: undefined,
      size: 30152449,
      sizeDelta: 8274211,
      lsnStart: '0/6000028',
      lsnStop: '0/6000138',
      prior: '20261121-045159F',
      reference: ['20261121-045159F'],
      timestampStart: 1795236723,
      timestampStop: 1795236725,
      type: 'diff',
      dbId: 1,
      optionArchiveCheck: true,
      optionArchiveCopy: false,
      optionBackupStandby: false,
      optionChecksumPage: true,
      optionCompress: true,
      optionHardlink: false,
      optionOnline: true,
      unknown: undefined,
    } satisfies BackupInfoEntry);
    const blockIncr = parseBackupInfo(example('backup.info.blockincr'), 'b').backups[1]!;
    expect([blockIncr.repoSizeMap, blockIncr.repoSizeMapDelta]).toEqual([23794, 5236]);
    expect(parseBackupInfo(example('encrypted-repo.backup.info.decrypted'), 'b').cipherPass).toBe(
      'ZpubwInMygs8aaxA0fGx/ii1ihEapgD7vq9xowRRusQPSMFlICIb8SaK7D1FFZzR',
    );
  });

  it.each([
    ['diff-lz4.backup.manifest', 'backup.info.with-foreign'],
    ['incr-lz4.backup.manifest', 'backup.info.with-foreign'],
    ['full-none.backup.manifest', 'backup.info'],
    ['full-bundle-blockincr.backup.manifest', 'backup.info.blockincr'],
    ['encrypted-repo.backup.manifest.decrypted', 'encrypted-repo.backup.info.decrypted'],
  ])('computes the entry of %s exactly as pgBackRest wrote it in %s (sizes of repo-format 2.3)', (manifestName, infoName) => {
    const manifest = parseManifest(example(manifestName), manifestName);
    const expected = findBackup(parseBackupInfo(example(infoName), infoName), manifest.backup.label);
    expect(backupInfoEntryFromManifest(manifest)).toEqual(expected);
  });

  it('differs from pgBackRest only in the repo sizes for the full backup whose postgresql.conf entry was edited', () => {
    const manifest = parseManifest(example('full-lz4.backup.manifest'), 'm');
    const expected = findBackup(parseBackupInfo(example('backup.info.with-foreign'), 'b'), manifest.backup.label)!;
    const entry = backupInfoEntryFromManifest(manifest);
    expect({ ...entry, repoSize: 0, repoSizeDelta: 0 }).toEqual({ ...expected, repoSize: 0, repoSizeDelta: 0 });
    const conf = manifest.files.get('pg_data/postgresql.conf')!;
    expect(conf.checksumRepo).toBeUndefined();
    expect(entry.repoSize).not.toBe(expected.repoSize);
    expect(entry.size).toBe(expected.size);
  });

  it('sums sizes as pgBackRest does: repo-size 0 counts size, referenced files are not in the delta, page errors set error', () => {
    const manifest = parseManifest(example('incr-lz4.backup.manifest'), 'm');
    const first = [...manifest.files.values()].find((file) => file.reference === undefined && file.size > 0)!;
    const before = manifestSizes(manifest);
    first.sizeRepo = 0;
    first.checksumPage = false;
    const after = manifestSizes(manifest);
    expect(after.repoSize - before.repoSize).toBe(
      first.size - parseManifest(example('incr-lz4.backup.manifest'), 'm').files.get(first.name)!.sizeRepo,
    );
    expect(after.error).toBe(true);
    expect(before.error).toBe(false);
    expect(backupInfoEntryFromManifest(manifest).error).toBe(true);
  });

  it('refuses a manifest whose reference list does not end with its label', () => {
    const manifest = parseManifest(example('diff-lz4.backup.manifest'), 'm');
    manifest.backup.reference = ['20261121-045159F', '20261121-045159F_20261121-045203I'];
    expect(caught(() => backupInfoEntryFromManifest(manifest)).errorName).toBe('Assert');
  });

  it('writes an offline backup with null archive start/stop and no lsn', () => {
    const manifest = parseManifest(example('full-none.backup.manifest'), 'm');
    manifest.backup.archiveStart = undefined;
    manifest.backup.archiveStop = undefined;
    manifest.backup.lsnStart = undefined;
    manifest.backup.lsnStop = undefined;
    manifest.annotation = { reason: 'test' };
    const info = newBackupInfo({ systemId: SYSTEM_ID, version: '15', catalogVersion: 202209061, controlVersion: 1300 });
    addBackup(info, backupInfoEntryFromManifest(manifest));
    const text = renderBackupInfo(info);
    expect(text).toContain(
      '"backup-annotation":{"reason":"test"},"backup-archive-start":null,"backup-archive-stop":null,"backup-error":false,',
    );
    expect(text).not.toContain('backup-lsn');
    expect(parseBackupInfo(text, 'b')).toEqual(info);
  });

  it('creates, upgrades, adds and removes like stanza-create, stanza-upgrade, backup and expire', () => {
    const info = newBackupInfo({ systemId: SYSTEM_ID, version: '15', catalogVersion: 202209061, controlVersion: 1300 });
    expect(renderBackupInfo(info)).toBe(
      '[backrest]\nbackrest-format=5\nbackrest-version="2.45"\n\n[db]\ndb-catalog-version=202209061\ndb-control-version=1300\ndb-id=1\n' +
        'db-system-id=7710482956265128591\ndb-version="15"\n\n[db:history]\n' +
        '1={"db-catalog-version":202209061,"db-control-version":1300,"db-system-id":7710482956265128591,"db-version":"15"}\n\n' +
        `[backrest]\nbackrest-checksum="${/backrest-checksum="([0-9a-f]{40})"/.exec(renderBackupInfo(info))![1]}"\n`,
    );
    expect(parseBackupInfo(renderBackupInfo(info), 'b')).toEqual(info);
    const source = parseBackupInfo(example('backup.info.with-foreign'), 'b');
    for (const entry of [...source.backups].reverse()) addBackup(info, entry);
    expect(info.backups.map((entry) => entry.label)).toEqual(source.backups.map((entry) => entry.label));
    expect(renderBackupInfo(info)).toBe(exampleText('backup.info.with-foreign'));

    // Replacing an entry keeps one per label
    addBackup(info, { ...source.backups[0]!, size: 1 });
    expect(info.backups).toHaveLength(source.backups.length);
    expect(findBackup(info, source.backups[0]!.label)?.size).toBe(1);

    expect(backupDependents(info, '20261121-045159F')).toEqual([
      '20261121-045159F_20261121-045203D',
      '20261121-045159F_20261121-045206I',
      '20261121-045159F_20261121-045207I',
    ]);
    expect(removeBackup(info, '20261121-050000F')?.label).toBe('20261121-050000F');
    expect(removeBackup(info, '20261121-050000F')).toBeUndefined();

    info.currentId = 9;
    expect(caught(() => backupInfoCurrent(info)).message).toBe('current history id 9 is not in the history');
    info.currentId = 1;
    const upgraded = backupInfoAddHistory(info, {
      systemId: 7800000000000000001n,
      version: '16',
      catalogVersion: 202307071,
      controlVersion: 1300,
    });
    expect(upgraded.id).toBe(2);
    expect(info.currentId).toBe(2);
    expect(backupInfoFindHistory(info, SYSTEM_ID, '15').map((entry) => entry.id)).toEqual([1]);
    const text = renderBackupInfo(info);
    expect(text).toContain(
      '[db]\ndb-catalog-version=202307071\ndb-control-version=1300\ndb-id=2\ndb-system-id=7800000000000000001\ndb-version="16"\n',
    );
    expect(parseBackupInfo(text, 'b')).toEqual(info);
  });

  it('leaves backup-error out when it is not known (entries of old versions)', () => {
    const info = parseBackupInfo(example('backup.info'), 'b');
    info.backups[0]!.error = undefined;
    const text = renderBackupInfo(info);
    expect(text.split('\n').filter((line) => line.includes('backup-error'))).toHaveLength(info.backups.length - 1);
    expect(parseBackupInfo(text, 'b').backups[0]!.error).toBeUndefined();
  });

  it('takes options missing from old manifests as false', () => {
    const manifest = parseManifest(example('full-none.backup.manifest'), 'm');
    manifest.options.backupStandby = undefined;
    manifest.options.checksumPage = undefined;
    expect(backupInfoEntryFromManifest(manifest)).toMatchObject({ optionBackupStandby: false, optionChecksumPage: false });
  });

  it('keeps unknown keys of an entry in their sorted place', () => {
    const line = exampleText('backup.info')
      .split('\n')
      .find((text) => text.startsWith('20261121-045300F='))!;
    const value = line
      .slice('20261121-045300F='.length)
      .replace('"backup-type":"full"', '"backup-type":"full","backup-zzz":[1]')
      .replace('"backrest-format":5', '"a-new":1,"backrest-format":5');
    const writer = new InfoWriter();
    writer.value('backup:current', '20261121-045300F', value);
    writer.value('db', 'db-id', '1');
    writer.value(
      'db:history',
      '1',
      '{"db-catalog-version":202209061,"db-control-version":1300,"db-system-id":7710482956265128591,"db-version":"15"}',
    );
    const text = writer.finish();
    const info = parseBackupInfo(text, 'b');
    expect(info.backups[0]!.unknown).toEqual({ 'a-new': 1, 'backup-zzz': [1] });
    const rendered = renderBackupInfo(info);
    expect(rendered).toContain(value);
  });

  it('rejects entries with missing or mistyped keys, naming the label', () => {
    const bad = (from: string, to: string) => {
      const line = exampleText('backup.info')
        .split('\n')
        .find((text) => text.startsWith('20261121-045300F='))!;
      const writer = new InfoWriter();
      writer.value('backup:current', '20261121-045300F', line.slice(17).replace(from, to));
      return caught(() => parseBackupInfo(writer.finish(), 'backup.info'));
    };
    expect(bad('"backup-type":"full"', '"backup-type":"weekly"').message).toBe(
      "backup type 'weekly' is not full, diff or incr in [backup:current] 20261121-045300F of 'backup.info'",
    );
    expect(bad('"option-online":true', '"option-online":1').message).toBe(
      "value of 'option-online' is not true or false in [backup:current] 20261121-045300F of 'backup.info'",
    );
    expect(bad('"db-id":1,', '').message).toBe("missing key 'db-id' in [backup:current] 20261121-045300F of 'backup.info'");
    expect(bad('"backup-info-size":30406403', '"backup-info-size":-1').message).toBe(
      "value of 'backup-info-size' is negative in [backup:current] 20261121-045300F of 'backup.info'",
    );
    expect(bad('"backup-info-size":30406403', '"backup-info-size":9999999999999999999').message).toBe(
      "value of 'backup-info-size' is too large in [backup:current] 20261121-045300F of 'backup.info'",
    );
    expect(bad('"backrest-format":5', '"backrest-format":5,"backup-reference":"x"').message).toBe(
      "value of 'backup-reference' is not a list of labels in [backup:current] 20261121-045300F of 'backup.info'",
    );
    expect(bad('"backup-archive-stop":"000000010000000000000016"', '"backup-archive-stop":1').message).toBe(
      "value of 'backup-archive-stop' is not a string in [backup:current] 20261121-045300F of 'backup.info'",
    );
  });

  it('loads with .copy fallback, refuses a plain file of an encrypted repository, saves main then copy', async () => {
    const path = 'backup/demo/backup.info';
    const storage = new MemoryStorage({ [path]: 'damaged', [`${path}.copy`]: example('backup.info') });
    const loaded = await loadBackupInfo(storage, path);
    expect(loaded.file).toBe(`/memory/${path}.copy`);
    await saveBackupInfo(storage, path, loaded.value);
    expect(storage.writes).toEqual([path, `${path}.copy`]);
    expect(storage.text(path)).toBe(exampleText('backup.info'));
    const encrypted = new MemoryStorage({ [path]: example('encrypted-repo.backup.info.decrypted') });
    await expect(loadBackupInfo(encrypted, path)).rejects.toMatchObject({ errorName: 'Crypto' });
    expect((await loadBackupInfo(encrypted, path, { allowCipherPass: true })).value.backups).toHaveLength(2);
    // Encrypted with the repository's passphrase, it loads with it
    const stored = new MemoryStorage();
    await saveBackupInfo(stored, path, parseBackupInfo(example('encrypted-repo.backup.info.decrypted'), 'x'), 'repo-passphrase');
    const loadedEncrypted = await loadBackupInfo(stored, path, { cipherPass: 'repo-passphrase' });
    expect(loadedEncrypted.value.cipherPass).toBe(
      parseBackupInfo(example('encrypted-repo.backup.info.decrypted'), 'x').cipherPass,
    );
  });
});
