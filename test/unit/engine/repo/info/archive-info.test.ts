import { describe, expect, it } from 'vitest';

import { isPgkeepError, type PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import {
  archiveIdForHistory,
  archiveIdsFor,
  archiveInfoAddHistory,
  archiveInfoCurrent,
  currentArchiveId,
  loadArchiveInfo,
  newArchiveInfo,
  parseArchiveInfo,
  renderArchiveInfo,
  saveArchiveInfo,
} from '../../../../../engine/repo/info/archive-info.js';
import { InfoWriter, parseInfo } from '../../../../../engine/repo/info/info-codec.js';
import { example, exampleText } from '../examples.js';
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

describe('archive.info', () => {
  it('reads the real file: current id, system id from the db-id quirk, version', () => {
    const info = parseArchiveInfo(example('archive.info'), 'archive.info');
    expect(info).toEqual({
      backrestVersion: '2.45',
      cipherPass: undefined,
      currentId: 1,
      history: [{ id: 1, systemId: SYSTEM_ID, version: '15' }],
      extraSections: new Map(),
    });
    expect(currentArchiveId(info)).toBe('15-1');
    expect(renderArchiveInfo(info)).toBe(exampleText('archive.info'));
  });

  it('reads and writes the cipher pass of an encrypted repository', () => {
    const info = parseArchiveInfo(example('encrypted-repo.archive.info.decrypted'), 'archive.info');
    expect(info.cipherPass).toBe('JzrEY1RrHYjg1NlGaIjgvHztBoIo5YHL8O5Ag3M8tywTOX/86h9HCAsvExXRZPho');
    expect(renderArchiveInfo(info)).toBe(exampleText('encrypted-repo.archive.info.decrypted'));
  });

  it('creates the file stanza-create writes', () => {
    expect(renderArchiveInfo(newArchiveInfo(SYSTEM_ID, '15'))).toBe(exampleText('archive.info'));
    expect(
      renderArchiveInfo(newArchiveInfo(SYSTEM_ID, '15', 'JzrEY1RrHYjg1NlGaIjgvHztBoIo5YHL8O5Ag3M8tywTOX/86h9HCAsvExXRZPho')),
    ).toBe(exampleText('encrypted-repo.archive.info.decrypted'));
  });

  it('adds history on stanza-upgrade with id = highest + 1, oldest first in the file', () => {
    const info = newArchiveInfo(SYSTEM_ID, '15');
    const added = archiveInfoAddHistory(info, 7800000000000000001n, '16');
    expect(added).toEqual({ id: 2, systemId: 7800000000000000001n, version: '16' });
    expect(archiveInfoCurrent(info)).toBe(added);
    expect(currentArchiveId(info)).toBe('16-2');
    const text = renderArchiveInfo(info);
    expect(text).toContain(
      '[db]\ndb-id=2\ndb-system-id=7800000000000000001\ndb-version="16"\n\n[db:history]\n' +
        '1={"db-id":7710482956265128591,"db-version":"15"}\n2={"db-id":7800000000000000001,"db-version":"16"}\n',
    );
    expect(parseArchiveInfo(text, 'f')).toEqual(info);
  });

  it('finds archive ids for a cluster newest first, and for a backup.info history entry', () => {
    const info = newArchiveInfo(SYSTEM_ID, '15');
    archiveInfoAddHistory(info, 7800000000000000001n, '16');
    archiveInfoAddHistory(info, SYSTEM_ID, '15');
    expect(archiveIdsFor(info, SYSTEM_ID, '15')).toEqual(['15-3', '15-1']);
    expect(archiveIdsFor(info, SYSTEM_ID, '16')).toEqual([]);
    expect(archiveIdForHistory(info, { id: 1, systemId: SYSTEM_ID, version: '15' })).toBe('15-1');
    // No exact id match: the newest with the same system id and version
    expect(archiveIdForHistory(info, { id: 7, systemId: SYSTEM_ID, version: '15' })).toBe('15-3');
    const error = caught(() => archiveIdForHistory(info, { id: 1, systemId: 1n, version: '14' }));
    expect(error.errorName).toBe('ArchiveMismatch');
    expect(error.message).toBe("unable to retrieve the archive id for database version '14' and system-id '1'");
  });

  it('keeps unknown sections', () => {
    const writer = new InfoWriter();
    writer.value('db', 'db-id', '1');
    writer.value('db', 'db-system-id', '1');
    writer.value('db', 'db-version', '"15"');
    writer.value('db:history', '1', '{"db-id":1,"db-version":"15"}');
    writer.value('future', 'key', '{"a":2,"b":1}');
    const text = writer.finish();
    const info = parseArchiveInfo(text, 'f');
    expect(info.extraSections.get('future')?.get('key')).toEqual({ a: 2, b: 1 });
    expect(renderArchiveInfo(info)).toBe(text);
    expect(parseInfo(renderArchiveInfo(info), 'g').sections.get('future')?.get('key')).toEqual({ a: 2, b: 1 });
  });

  it('rejects a file without history, without current id, or with a current id not in history', () => {
    const file = (values: [string, string, string][]) => {
      const writer = new InfoWriter();
      for (const [section, key, raw] of values) writer.value(section, key, raw);
      return writer.finish();
    };
    const noHistory = caught(() => parseArchiveInfo(file([['db', 'db-id', '1']]), 'f'));
    expect(noHistory.message).toBe("history is missing in [db:history] of 'f'");
    const noCurrent = caught(() => parseArchiveInfo(file([['db:history', '1', '{"db-id":1,"db-version":"15"}']]), 'f'));
    expect(noCurrent.message).toBe("missing key 'db-id' in [db] of 'f'");
    const wrongCurrent = caught(() =>
      parseArchiveInfo(
        file([
          ['db', 'db-id', '2'],
          ['db:history', '1', '{"db-id":1,"db-version":"15"}'],
        ]),
        'f',
      ),
    );
    expect(wrongCurrent.message).toBe("current db-id 2 is not in the history in [db] of 'f'");
    const badKey = caught(() =>
      parseArchiveInfo(
        file([
          ['db', 'db-id', '1'],
          ['db:history', 'x', '{"db-id":1,"db-version":"15"}'],
        ]),
        'f',
      ),
    );
    expect(badKey.message).toBe("history id 'x' is not a number in [db:history] x of 'f'");
    const badValue = caught(() =>
      parseArchiveInfo(
        file([
          ['db', 'db-id', '1'],
          ['db:history', '1', '{"db-id":"1","db-version":"15"}'],
        ]),
        'f',
      ),
    );
    expect(badValue.errorName).toBe('FileInvalid');
    expect(badValue.message).toBe("value of 'db-id' is not an integer in [db:history] 1 of 'f'");
    const notObject = caught(() =>
      parseArchiveInfo(
        file([
          ['db', 'db-id', '1'],
          ['db:history', '1', '"15"'],
        ]),
        'f',
      ),
    );
    expect(notObject.message).toBe("expected a JSON object in [db:history] 1 of 'f'");
  });

  it('loads with .copy fallback, refuses a plain file of an encrypted repository, and saves main then copy', async () => {
    const path = 'archive/demo/archive.info';
    const storage = new MemoryStorage({ [`${path}.copy`]: example('archive.info') });
    const loaded = await loadArchiveInfo(storage, path);
    expect(loaded.file).toBe(`/memory/${path}.copy`);
    expect(currentArchiveId(loaded.value)).toBe('15-1');

    await saveArchiveInfo(storage, path, { ...loaded.value, backrestVersion: '2.40' });
    expect(storage.writes).toEqual([path, `${path}.copy`]);
    // pgkeep writes as pgBackRest 2.45 does, whatever version wrote the file before
    expect(storage.text(path)).toBe(exampleText('archive.info'));

    const encrypted = new MemoryStorage({ [path]: example('encrypted-repo.archive.info.decrypted') });
    await expect(loadArchiveInfo(encrypted, path)).rejects.toThrow(
      `'/memory/${path}' has a cipher passphrase, but repo-cipher-type is none`,
    );
    expect((await loadArchiveInfo(encrypted, path, { allowCipherPass: true })).value.cipherPass).toMatch(/^Jzr/);
  });

  it('saves and loads an encrypted archive.info with the repository passphrase; refuses one without a passphrase inside', async () => {
    const path = 'archive/demo/archive.info';
    const storage = new MemoryStorage();
    const info = newArchiveInfo(1n, '15', 'files-passphrase');
    await saveArchiveInfo(storage, path, info, 'repo-passphrase');
    // main and copy are the same bytes, OpenSSL's format
    expect(storage.files.get(path)!.subarray(0, 8).toString()).toBe('Salted__');
    expect(storage.files.get(`${path}.copy`)!).toEqual(storage.files.get(path)!);
    expect((await loadArchiveInfo(storage, path, { cipherPass: 'repo-passphrase' })).value.cipherPass).toBe('files-passphrase');
    await expect(loadArchiveInfo(storage, path, { cipherPass: 'wrong' })).rejects.toMatchObject({ errorName: 'Crypto' });
    await expect(loadArchiveInfo(storage, path)).rejects.toThrow('is encrypted, but repo-cipher-type is none');

    await saveArchiveInfo(storage, path, newArchiveInfo(1n, '15'), 'repo-passphrase');
    await expect(loadArchiveInfo(storage, path, { cipherPass: 'repo-passphrase' })).rejects.toThrow(
      `'/memory/${path}' has no cipher passphrase, but it is encrypted`,
    );
  });
});
