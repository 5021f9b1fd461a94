import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  clearErrors,
  listQueue,
  readStatus,
  removeIfExists,
  spoolQueuePath,
  statusError,
  writeError,
  writeOk,
} from '../../../../../engine/archive-async/spool.js';
import { PgkeepError } from '../../../../../engine/error/pgkeep-error.js';

let dir: string;
const segment = '000000010000000000000007';

beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'pgkeep-spool-')), 'out');
});
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

describe('the spool layout', () => {
  it("is pgBackRest's: <spool>/archive/<stanza>/in|out", () => {
    expect(spoolQueuePath('/var/spool/pgkeep', 'main', 'out')).toBe('/var/spool/pgkeep/archive/main/out');
    expect(spoolQueuePath('/var/spool/pgkeep', 'main', 'in')).toBe('/var/spool/pgkeep/archive/main/in');
  });
});

describe('status files', () => {
  it('an empty .ok is success; a warning is written as "0\\n<text>" and read back', async () => {
    expect(await readStatus(dir, segment)).toBeUndefined();
    await writeOk(dir, segment);
    expect(readFileSync(join(dir, `${segment}.ok`), 'utf8')).toBe('');
    expect(await readStatus(dir, segment)).toEqual({ kind: 'ok', file: `${segment}.ok` });
    await writeOk(dir, segment, 'dropped WAL file');
    expect(readFileSync(join(dir, `${segment}.ok`), 'utf8')).toBe('0\ndropped WAL file');
    expect(await readStatus(dir, segment)).toEqual({ kind: 'ok', file: `${segment}.ok`, warning: 'dropped WAL file' });
  });

  it('an .error renamed by hand to .ok skips the file, with a warning saying so', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${segment}.ok`), '45\nWAL file already exists with a different checksum');
    expect(await readStatus(dir, segment)).toMatchObject({
      kind: 'ok',
      warning: `WAL segment '${segment}' was not pushed due to error [45] and was manually skipped: WAL file already exists with a different checksum`,
    });
  });

  it('an .error holds code and text (hint included); the error it reports has that code and hint', async () => {
    await writeError(dir, segment, new PgkeepError('ArchiveMismatch', 'wrong cluster', { hint: 'check the stanza' }));
    expect(readFileSync(join(dir, `${segment}.error`), 'utf8')).toBe('44\nwrong cluster\nHINT: check the stanza');
    const status = await readStatus(dir, segment);
    expect(status).toEqual({
      kind: 'error',
      file: `${segment}.error`,
      code: 44,
      message: 'wrong cluster\nHINT: check the stanza',
    });
    const error = statusError(status as Extract<typeof status, { kind: 'error' }>);
    expect(error).toMatchObject({ errorName: 'ArchiveMismatch', code: 44, message: 'wrong cluster', hint: 'check the stanza' });
  });

  it('a code this build does not know (pgbackrest wrote it) is Unknown, message kept', () => {
    const error = statusError({ kind: 'error', file: 'x.error', code: 199, message: 'from the future' });
    expect(error).toMatchObject({ errorName: 'Unknown', message: 'from the future', hint: undefined });
  });

  it('.ok wins over .error, which wins over global.error (global only when asked for)', async () => {
    await writeError(dir, undefined, new PgkeepError('Stop', 'stop file exists for stanza main'));
    expect(await readStatus(dir, segment)).toMatchObject({ kind: 'error', file: 'global.error', code: 62 });
    expect(await readStatus(dir, segment, { global: false })).toBeUndefined();
    await writeError(dir, segment, new Error('boom'));
    expect(await readStatus(dir, segment)).toMatchObject({ kind: 'error', file: `${segment}.error`, code: 124 });
    await writeOk(dir, segment);
    expect(await readStatus(dir, segment)).toMatchObject({ kind: 'ok' });
  });

  it('clearErrors removes the file error and the global error, not other files', async () => {
    await writeError(dir, segment, new Error('a'));
    await writeError(dir, undefined, new Error('b'));
    await writeError(dir, '000000010000000000000008', new Error('c'));
    await writeOk(dir, '000000010000000000000009');
    await clearErrors(dir, segment);
    expect(readdirSync(dir).sort()).toEqual(['000000010000000000000008.error', '000000010000000000000009.ok']);
    await clearErrors(dir, segment); // nothing left to remove: fine
  });

  it('malformed status files are format errors naming the file', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${segment}.error`), '');
    await expect(readStatus(dir, segment)).rejects.toMatchObject({ errorName: 'Assert' });
    writeFileSync(join(dir, `${segment}.error`), '45');
    await expect(readStatus(dir, segment)).rejects.toThrow(
      `${join(dir, `${segment}.error`)} content must have at least two lines`,
    );
    writeFileSync(join(dir, `${segment}.error`), '45\n  ');
    await expect(readStatus(dir, segment)).rejects.toThrow('message must be > 0');
    writeFileSync(join(dir, `${segment}.error`), 'x45\nmessage');
    await expect(readStatus(dir, segment)).rejects.toThrow("does not start with an error code: 'x45'");
  });

  it('listQueue leaves temporary files out and creates the queue', async () => {
    expect(await listQueue(dir)).toEqual([]);
    writeFileSync(join(dir, `${segment}.ok.pgkeep.tmp.1.abcd`), '');
    writeFileSync(join(dir, segment), '');
    expect(await listQueue(dir)).toEqual([segment]);
  });

  it('reports file system failures as storage errors naming the path (a file where a directory belongs)', async () => {
    mkdirSync(join(dir, '..'), { recursive: true });
    writeFileSync(dir, 'not a directory');
    await expect(readStatus(dir, segment)).rejects.toMatchObject({ errorName: 'FileOpen' });
    await expect(writeOk(dir, segment)).rejects.toMatchObject({ errorName: 'PathCreate' });
    await expect(removeIfExists(join(dir, `${segment}.ok`))).rejects.toMatchObject({ errorName: 'FileRemove' });
    await expect(listQueue(dir)).rejects.toMatchObject({ errorName: 'PathCreate' });
    rmSync(dir);
    mkdirSync(join(dir, `${segment}.ok`), { recursive: true }); // a directory where the status file goes
    await expect(writeOk(dir, segment)).rejects.toMatchObject({ errorName: 'FileWrite' });
    expect(readdirSync(dir)).toEqual([`${segment}.ok`]); // no temporary file left
  });
});
