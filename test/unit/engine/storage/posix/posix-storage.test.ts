import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import { PosixStorage, processUmask, TEMP_MARK } from '../../../../../engine/storage/posix/posix-storage.js';
import { findOsUser } from '../../../../harness/os-user.js';

let dir: string;
let storage: PosixStorage;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-posix-'));
  storage = new PosixStorage({ basePath: dir });
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Awaits the promise and returns the PgkeepError it rejects with (failing when it resolves or throws something else). */
async function failure(promise: Promise<unknown>): Promise<PgkeepError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PgkeepError);
    return error as PgkeepError;
  }
  throw new Error('expected a rejection');
}

function modeOf(path: string): number {
  return lstatSync(path).mode & 0o7777;
}

/** A stream that yields `count` chunks of `size` bytes of `fill` and then fails, if `failAfter` is set. */
async function* chunks(count: number, size: number, fill: number, failAfter?: number): AsyncGenerator<Uint8Array> {
  for (let index = 0; index < count; index++) {
    if (failAfter !== undefined && index === failAfter) throw new PgkeepError('Checksum', 'source broke midway');
    yield Buffer.alloc(size, fill);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('PosixStorage paths', () => {
  it('resolves relative paths against the base path and keeps absolute ones', () => {
    expect(storage.resolve('a/b')).toBe(join(dir, 'a/b'));
    expect(storage.resolve('/etc/x')).toBe('/etc/x');
    expect(new PosixStorage({ basePath: 'rel' }).basePath).toBe(join(process.cwd(), 'rel'));
  });
});

describe('PosixStorage.write', () => {
  it('writes a buffer, a Readable, an async iterable and string chunks, with mode 0640 by default', async () => {
    await storage.write('buffer', Buffer.from('abc'));
    await storage.write('readable', Readable.from([Buffer.from('de'), Buffer.from('f')]));
    await storage.write('iterable', chunks(3, 4, 0x41));
    await storage.write('strings', Readable.from(['x', 'yz'], { objectMode: true }));
    await storage.write('empty', new Uint8Array(0));
    expect(readFileSync(join(dir, 'buffer'), 'utf8')).toBe('abc');
    expect(readFileSync(join(dir, 'readable'), 'utf8')).toBe('def');
    expect(readFileSync(join(dir, 'iterable'), 'utf8')).toBe('AAAAAAAAAAAA');
    expect(readFileSync(join(dir, 'strings'), 'utf8')).toBe('xyz');
    expect(statSync(join(dir, 'empty')).size).toBe(0);
    expect(modeOf(join(dir, 'buffer'))).toBe(0o640);
    expect(readdirSync(dir).sort()).toEqual(['buffer', 'empty', 'iterable', 'readable', 'strings']);
  });

  it('gathers small chunks and writes large ones as they come, in order', async () => {
    // Mixed sizes around the gather size (256 KiB); a producer reusing its buffer must not corrupt earlier bytes.
    const reused = Buffer.alloc(100 * 1024);
    const sizes = [300 * 1024, 10, 0, 100 * 1024, 200 * 1024, 300 * 1024, 1, 100 * 1024, 100 * 1024, 100 * 1024, 5];
    async function* producer(): AsyncGenerator<Uint8Array> {
      for (const [index, size] of sizes.entries()) {
        if (size <= reused.length) {
          reused.fill(index, 0, size);
          yield reused.subarray(0, size);
        } else yield Buffer.alloc(size, index);
      }
    }
    await storage.write('mixed', producer());
    const expected = Buffer.concat(sizes.map((size, index) => Buffer.alloc(size, index)));
    expect(readFileSync(join(dir, 'mixed')).equals(expected)).toBe(true);
  });

  it('ends with a large chunk, and reports a source that throws something other than an Error', async () => {
    await storage.write('large-last', Readable.from([Buffer.from('ab'), Buffer.alloc(300 * 1024, 1)]));
    expect(statSync(join(dir, 'large-last')).size).toBe(300 * 1024 + 2);
    async function* throwsText(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('x');
      throw 'plain text';
    }
    const error = await failure(storage.write('text', throwsText()));
    expect(error.message).toBe(`unable to write '${join(dir, 'text')}': the source failed: plain text`);
  });

  it('fails with FileWrite when the device is full, stops the source, and leaves a device in place', async () => {
    let pulled = 0;
    const source = new Readable({
      read() {
        pulled++;
        this.push(Buffer.alloc(512 * 1024));
      },
    });
    const error = await failure(storage.write('/dev/full', source, { atomic: false }));
    expect(error.errorName).toBe('FileWrite');
    expect(error.message).toBe("unable to write '/dev/full': no space left on device");
    expect(error.hint).toBe("free space on the file system of '/dev'");
    expect(source.destroyed).toBe(true);
    expect(pulled).toBeLessThan(5);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it('fails a small buffer written in place on a full device with FileWrite, leaving the device', async () => {
    // Small buffers take the synchronous path (writeSmall): same errors, same clean-up.
    const error = await failure(storage.write('/dev/full', Buffer.alloc(1000), { atomic: false }));
    expect(error.errorName).toBe('FileWrite');
    expect(error.message).toBe("unable to write '/dev/full': no space left on device");
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it('fails with FileOpen when a name is too long, after creating its directory', async () => {
    const error = await failure(storage.write(`new/${'x'.repeat(300)}`, Buffer.from('x')));
    expect(error.errorName).toBe('FileOpen');
    expect(error.message).toMatch(/for write: name too long$/);
    expect(readdirSync(join(dir, 'new'))).toEqual([]);
  });

  it('creates missing parent directories with pathMode, and fails with PathMissing when createPath is false', async () => {
    await storage.write('a/b/c/file', Buffer.from('x'), { pathMode: 0o700 });
    expect(readFileSync(join(dir, 'a/b/c/file'), 'utf8')).toBe('x');
    for (const path of ['a', 'a/b', 'a/b/c']) expect(modeOf(join(dir, path))).toBe(0o700);

    const error = await failure(storage.write('missing/file', Buffer.from('x'), { createPath: false }));
    expect(error.errorName).toBe('PathMissing');
    expect(error.message).toBe(`unable to open '${join(dir, 'missing/file')}' for write: no such file or directory`);
    expect(error.hint).toBe(`create the directory '${join(dir, 'missing')}' first`);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('applies mode and mtime exactly, whatever the umask', async () => {
    await storage.write('f', Buffer.from('x'), { mode: 0o777, mtime: 1_600_000_000 });
    expect(modeOf(join(dir, 'f'))).toBe(0o777);
    expect(statSync(join(dir, 'f')).mtimeMs).toBe(1_600_000_000_000);
    expect(statSync(join(dir, 'f')).atimeMs).toBe(1_600_000_000_000);
    await storage.write('g', Buffer.from('x'), { mode: 0o600, sync: false });
    expect(modeOf(join(dir, 'g'))).toBe(0o600);
    // The umask is read from /proc once; this machine's is what the shell reports.
    expect(processUmask()).toBe(parseInt(execFileSync('sh', ['-c', 'umask'], { encoding: 'utf8' }).trim(), 8));
  });

  it('replaces an existing file atomically and leaves no temporary file', async () => {
    writeFileSync(join(dir, 'f'), 'old');
    await storage.write('f', Buffer.from('new'));
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('shows only a temporary name while writing', async () => {
    let listed: string[] = [];
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('part one ');
      listed = readdirSync(dir);
      yield Buffer.from('part two');
    }
    await storage.write('final', slow());
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatch(new RegExp(`^final${TEMP_MARK.replaceAll('.', '\\.')}${process.pid}\\.[0-9a-f]{8}$`));
    expect(readdirSync(dir)).toEqual(['final']);
  });

  it('leaves neither a temporary file nor a final file when the source fails midway', async () => {
    const error = await failure(storage.write('sub/final', chunks(10, 64 * 1024, 1, 5)));
    expect(error.errorName).toBe('Checksum');
    expect(error.message).toBe('source broke midway');
    expect(readdirSync(join(dir, 'sub'))).toEqual([]);

    // A Readable that errors: the error is reported as a write failure naming the file.
    const broken = new Readable({
      read() {
        this.destroy(new Error('socket hang up'));
      },
    });
    const streamError = await failure(storage.write('sub/final', broken));
    expect(streamError.errorName).toBe('FileWrite');
    expect(streamError.message).toBe(`unable to write '${join(dir, 'sub/final')}': the source failed: socket hang up`);
    expect(readdirSync(join(dir, 'sub'))).toEqual([]);
  });

  it('keeps the previous content when a replacing write fails', async () => {
    writeFileSync(join(dir, 'f'), 'previous');
    await failure(storage.write('f', chunks(4, 1024, 2, 2)));
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('never lets a concurrent reader see a partial file', async () => {
    const size = 512 * 1024;
    const versions = 20;
    let writing = true;
    const seen = new Set<number>();
    const reader = async (): Promise<void> => {
      while (writing) {
        const data = await storage.readBuffer('shared', { ignoreMissing: true });
        if (data === undefined) continue;
        expect(data.length).toBe(size);
        expect(data[0]).toBe(data[size - 1]);
        expect(data.indexOf(data[0]! === 0 ? 1 : 0)).toBe(-1);
        seen.add(data[0]!);
      }
    };
    const readers = [reader(), reader(), reader()];
    for (let version = 1; version <= versions; version++) {
      // Chunked so that each write takes several system calls: an in-place write would be seen half done.
      await storage.write('shared', chunks(8, size / 8, version), { sync: false });
    }
    writing = false;
    await Promise.all(readers);
    expect(seen.size).toBeGreaterThan(1);
  });

  it('writes in place when atomic is false, applying the mode to an existing file', async () => {
    writeFileSync(join(dir, 'f'), 'old old old', { mode: 0o600 });
    await storage.write('f', Buffer.from('new'), { atomic: false, mode: 0o644, mtime: 1_500_000_000 });
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('new');
    expect(modeOf(join(dir, 'f'))).toBe(0o644);
    expect(statSync(join(dir, 'f')).mtimeMs).toBe(1_500_000_000_000);
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('removes a file written in place when the write fails', async () => {
    await failure(storage.write('f', chunks(4, 1024, 2, 2), { atomic: false }));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails with UserMissing for an unknown owner before writing anything', async () => {
    const error = await failure(storage.write('f', Buffer.from('x'), { user: 'no-such-user-pgkeep' }));
    expect(error.errorName).toBe('UserMissing');
    expect(error.message).toBe(
      `unable to set owner of '${join(dir, 'f')}': user 'no-such-user-pgkeep' does not exist on this host`,
    );
    const groupError = await failure(storage.write('f', Buffer.from('x'), { group: 'no-such-group-pgkeep' }));
    expect(groupError.message).toContain("group 'no-such-group-pgkeep' does not exist");
    expect(readdirSync(dir)).toEqual([]);
  });

  it('sets the owner by name (root), or accepts an owner that changes nothing', async () => {
    const self = (await storage.info('.'))!;
    // Naming the owner the file gets anyway works for anyone.
    await storage.write('same', Buffer.from('x'), { user: self.user!, group: self.group! });
    expect(statSync(join(dir, 'same')).uid).toBe(process.geteuid!());
    if (process.geteuid!() !== 0) return; // giving files away needs root: covered by the child process test below
    const postgres = findOsUser('postgres');
    if (postgres === undefined) return; // no postgres user on this machine
    await storage.write('given', Buffer.from('x'), { user: 'postgres', group: 'postgres' });
    const stats = statSync(join(dir, 'given'));
    expect([stats.uid, stats.gid]).toEqual([postgres.uid, postgres.gid]);
    await storage.write('user-only', Buffer.from('x'), { user: 'postgres' });
    expect([statSync(join(dir, 'user-only')).uid, statSync(join(dir, 'user-only')).gid]).toEqual([postgres.uid, 0]);
    await storage.write('group-only', Buffer.from('x'), { group: 'postgres' });
    expect([statSync(join(dir, 'group-only')).uid, statSync(join(dir, 'group-only')).gid]).toEqual([0, postgres.gid]);
  });

  it('fails with FileMove when the final name is a directory, leaving no temporary file', async () => {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'inside'), 'x');
    const error = await failure(storage.write('d', Buffer.from('x')));
    expect(error.errorName).toBe('FileMove');
    expect(readdirSync(dir)).toEqual(['d']);
  });
});

describe('PosixStorage.read', () => {
  it('streams a file in chunks, with offset and limit', async () => {
    const data = Buffer.alloc(300_000);
    for (let index = 0; index < data.length; index++) data[index] = index % 251;
    writeFileSync(join(dir, 'f'), data);
    const small = new PosixStorage({ basePath: dir, chunkSize: 64 * 1024 });
    const stream = (await small.read('f'))!;
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    expect(parts.map((part) => part.length)).toEqual([65536, 65536, 65536, 65536, 37856]);
    expect(Buffer.concat(parts).equals(data)).toBe(true);

    expect((await small.readBuffer('f', { offset: 1000, limit: 100_000 }))!.equals(data.subarray(1000, 101_000))).toBe(true);
    expect((await small.readBuffer('f', { offset: 299_990 }))!.equals(data.subarray(299_990))).toBe(true);
    expect((await small.readBuffer('f', { offset: 400_000 }))!.length).toBe(0);
    expect((await small.readBuffer('f', { limit: 0 }))!.length).toBe(0);
    // A limit past the end reads what there is; a directory is refused as read() refuses it.
    expect((await small.readBuffer('f', { limit: 1_000_000 }))!.equals(data)).toBe(true);
    mkdirSync(join(dir, 'a-directory'));
    expect((await failure(small.readBuffer('a-directory', { limit: 10 }))).errorName).toBe('FileOpen');
  });

  it('reads empty files and files that grew after they were opened', async () => {
    writeFileSync(join(dir, 'empty'), '');
    expect((await storage.readBuffer('empty', { offset: 0 }))!.length).toBe(0);
    writeFileSync(join(dir, 'growing'), 'abc');
    const stream = (await storage.read('growing'))!;
    writeFileSync(join(dir, 'growing'), 'abcdef', { flag: 'a' });
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    expect(Buffer.concat(parts).toString()).toBe('abcabcdef');
  });

  it('returns undefined for a missing file with ignoreMissing, else fails with FileMissing naming it', async () => {
    expect(await storage.read('missing', { ignoreMissing: true })).toBeUndefined();
    expect(await storage.readBuffer('missing', { ignoreMissing: true })).toBeUndefined();
    expect(await storage.readBuffer('missing', { ignoreMissing: true, offset: 1 })).toBeUndefined();
    const error = await failure(storage.read('missing'));
    expect(error.errorName).toBe('FileMissing');
    expect(error.message).toBe(`unable to open '${join(dir, 'missing')}' for read: no such file or directory`);
    expect((await failure(storage.readBuffer('missing'))).errorName).toBe('FileMissing');
  });

  it('fails the stream with FileRead naming the file when a read fails', async () => {
    // Reading address 0 of this process's memory fails with EIO.
    const stream = (await storage.read('/proc/self/mem'))!;
    const error = await failure(
      (async () => {
        for await (const chunk of stream) expect(chunk).toBeUndefined();
      })(),
    );
    expect(error.errorName).toBe('FileRead');
    expect(error.message).toBe("unable to read '/proc/self/mem': i/o error");
  });

  it('refuses to read a directory', async () => {
    mkdirSync(join(dir, 'd'));
    const error = await failure(storage.read('d'));
    expect(error.errorName).toBe('FileOpen');
    expect(error.message).toBe(`unable to open '${join(dir, 'd')}' for read: it is a directory`);
    const bufferError = await failure(storage.readBuffer('d'));
    expect(bufferError.errorName).toBe('FileRead');
    expect(bufferError.message).toBe(`unable to read '${join(dir, 'd')}': illegal operation on a directory`);
  });

  it('closes the file when a stream is destroyed early', async () => {
    writeFileSync(join(dir, 'f'), Buffer.alloc(1024 * 1024));
    const stream = (await storage.read('f'))!;
    const closed = new Promise((resolve) => stream.on('close', resolve));
    stream.destroy();
    await closed;
    expect(stream.destroyed).toBe(true);
  });
});

describe('PosixStorage.info and list', () => {
  beforeEach(() => {
    mkdirSync(join(dir, 'base/1'), { recursive: true });
    writeFileSync(join(dir, 'base/1/1234'), 'x'.repeat(8192));
    writeFileSync(join(dir, 'base/1/1234_fsm'), 'y');
    writeFileSync(join(dir, 'PG_VERSION'), '15\n', { mode: 0o600 });
    chmodSync(join(dir, 'PG_VERSION'), 0o600);
    utimesSync(join(dir, 'PG_VERSION'), 1_700_000_000.75, 1_700_000_000.75);
    symlinkSync('/some/where', join(dir, 'pg_wal'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
  });

  it('describes files, directories, links and special files', async () => {
    const file = (await storage.info('PG_VERSION'))!;
    expect(file).toEqual({
      name: 'PG_VERSION',
      type: 'file',
      size: 3,
      mtime: 1_700_000_000,
      mode: 0o600,
      uid: process.geteuid!(),
      gid: process.getegid!(),
      user: expect.any(String),
      group: expect.any(String),
    });
    expect(file.user).toBe(execFileSync('id', ['-un'], { encoding: 'utf8' }).trim());
    expect(file.group).toBe(execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim());
    const link = (await storage.info('pg_wal'))!;
    expect([link.type, link.linkDestination, link.size]).toEqual(['link', '/some/where', 0]);
    expect((await storage.info('base'))!.type).toBe('path');
    expect((await storage.info('fifo'))!.type).toBe('special');
  });

  it('follows a link when asked, and reports missing entries', async () => {
    symlinkSync('PG_VERSION', join(dir, 'version-link'));
    const followed = (await storage.info('version-link', { followLink: true }))!;
    expect([followed.type, followed.size, followed.linkDestination]).toEqual(['file', 3, undefined]);
    expect(await storage.info('pg_wal', { followLink: true, ignoreMissing: true })).toBeUndefined();
    const error = await failure(storage.info('nothing'));
    expect(error.errorName).toBe('FileMissing');
    expect(error.message).toBe(`unable to get info for '${join(dir, 'nothing')}': no such file or directory`);
    expect(await storage.info('PG_VERSION/below', { ignoreMissing: true })).toBeUndefined();
  });

  it('reports a link loop as FileInfo', async () => {
    symlinkSync('loop', join(dir, 'loop'));
    const error = await failure(storage.exists('loop'));
    expect(error.errorName).toBe('FileInfo');
    expect(error.message).toBe(`unable to get info for '${join(dir, 'loop')}': too many symbolic links encountered`);
  });

  it('leaves out entries that disappear while listing', async () => {
    writeFileSync(join(dir, 'victim'), 'x');
    mkdirSync(join(dir, 'gone/deeper'), { recursive: true });
    // The filter runs after the directory is read and before each entry is looked at: a file
    // removed then is what a live data directory does to a backup.
    class Vanishing extends RegExp {
      override test(name: string): boolean {
        if (name === 'victim') rmSync(join(dir, 'victim'));
        if (name === 'gone') rmSync(join(dir, 'gone'), { recursive: true });
        return true;
      }
    }
    const names = (await storage.list('', { recurse: true, filter: new Vanishing('') })).map((entry) => entry.name);
    expect(names).toEqual(['PG_VERSION', 'base', 'base/1', 'base/1/1234', 'base/1/1234_fsm', 'fifo', 'pg_wal']);
  });

  it('answers exists for files and pathExists for directories', async () => {
    expect(await storage.exists('PG_VERSION')).toBe(true);
    expect(await storage.exists('fifo')).toBe(true);
    expect(await storage.exists('base')).toBe(false);
    expect(await storage.exists('pg_wal')).toBe(false); // a dangling link
    expect(await storage.exists('missing')).toBe(false);
    expect(await storage.pathExists('base')).toBe(true);
    expect(await storage.pathExists('PG_VERSION')).toBe(false);
    expect(await storage.pathExists('missing/deeper')).toBe(false);
  });

  it('lists one directory, sorted', async () => {
    const entries = await storage.list('.');
    expect(entries.map((entry) => [entry.name, entry.type])).toEqual([
      ['PG_VERSION', 'file'],
      ['base', 'path'],
      ['fifo', 'special'],
      ['pg_wal', 'link'],
    ]);
    expect(entries.find((entry) => entry.name === 'pg_wal')!.linkDestination).toBe('/some/where');
  });

  it('lists recursively with relative names, parents before children', async () => {
    const names = (await storage.list('', { recurse: true })).map((entry) => entry.name);
    expect(names).toEqual(['PG_VERSION', 'base', 'base/1', 'base/1/1234', 'base/1/1234_fsm', 'fifo', 'pg_wal']);
    const sizes = (await storage.list('base', { recurse: true })).map((entry) => [entry.name, entry.size]);
    expect(sizes).toEqual([
      ['1', 0],
      ['1/1234', 8192],
      ['1/1234_fsm', 1],
    ]);
  });

  it('filters names, descending into directories that do not match', async () => {
    const global = /^base\/1\/\d+$/g;
    expect((await storage.list('', { recurse: true, filter: global })).map((entry) => entry.name)).toEqual(['base/1/1234']);
    // A global expression keeps no state between entries or calls.
    expect((await storage.list('', { recurse: true, filter: global })).map((entry) => entry.name)).toEqual(['base/1/1234']);
    expect((await storage.list('base/1', { filter: /_fsm$/ })).map((entry) => entry.name)).toEqual(['1234_fsm']);
  });

  it('lists a missing directory as empty with ignoreMissing, else fails with PathMissing', async () => {
    expect(await storage.list('missing', { ignoreMissing: true })).toEqual([]);
    const error = await failure(storage.list('missing'));
    expect(error.errorName).toBe('PathMissing');
    expect(error.message).toBe(`unable to list directory '${join(dir, 'missing')}': no such file or directory`);
    const notDirectory = await failure(storage.list('PG_VERSION'));
    expect(notDirectory.errorName).toBe('PathOpen');
    expect(notDirectory.message).toBe(`unable to list directory '${join(dir, 'PG_VERSION')}': not a directory`);
  });

  it('stats large directories in batches', async () => {
    mkdirSync(join(dir, 'many'));
    for (let index = 0; index < 300; index++) writeFileSync(join(dir, 'many', `f${String(index).padStart(3, '0')}`), '');
    const entries = await storage.list('many');
    expect(entries).toHaveLength(300);
    expect(entries[0]!.name).toBe('f000');
    expect(entries[299]!.name).toBe('f299');
  });
});

describe('PosixStorage remove, move, directories and links', () => {
  it('removes files, ignoring a missing one unless told otherwise', async () => {
    writeFileSync(join(dir, 'f'), 'x');
    await storage.remove('f');
    expect(existsSync(join(dir, 'f'))).toBe(false);
    await storage.remove('f');
    const error = await failure(storage.remove('f', { ignoreMissing: false }));
    expect(error.errorName).toBe('FileMissing');
    expect(error.message).toBe(`unable to remove '${join(dir, 'f')}': no such file or directory`);
  });

  it('removes a directory only with recurse', async () => {
    mkdirSync(join(dir, 'd/e'), { recursive: true });
    writeFileSync(join(dir, 'd/e/f'), 'x');
    const error = await failure(storage.remove('d'));
    expect(error.errorName).toBe('FileRemove');
    expect(error.message).toBe(`unable to remove '${join(dir, 'd')}': illegal operation on a directory`);
    await storage.remove('d', { recurse: true });
    expect(existsSync(join(dir, 'd'))).toBe(false);
  });

  it('removes directories: empty ones, or with recurse everything inside', async () => {
    mkdirSync(join(dir, 'empty'));
    await storage.pathRemove('empty');
    expect(existsSync(join(dir, 'empty'))).toBe(false);
    mkdirSync(join(dir, 'full/sub'), { recursive: true });
    writeFileSync(join(dir, 'full/sub/f'), 'x');
    const error = await failure(storage.pathRemove('full'));
    expect(error.errorName).toBe('PathRemove');
    expect(error.message).toBe(`unable to remove directory '${join(dir, 'full')}': directory not empty`);
    await storage.pathRemove('full', { recurse: true });
    expect(existsSync(join(dir, 'full'))).toBe(false);
    await storage.pathRemove('full', { recurse: true });
    const missing = await failure(storage.pathRemove('full', { ignoreMissing: false }));
    expect(missing.errorName).toBe('PathMissing');
  });

  it('moves files, creating the destination directory', async () => {
    writeFileSync(join(dir, 'f'), 'x');
    await storage.move('f', 'new/dir/g');
    expect(readFileSync(join(dir, 'new/dir/g'), 'utf8')).toBe('x');
    expect(existsSync(join(dir, 'f'))).toBe(false);
    await storage.move('new/dir/g', 'new/dir/renamed');
    await storage.move('new/dir/renamed', 'new/h');
    expect(readdirSync(join(dir, 'new')).sort()).toEqual(['dir', 'h']);
    const error = await failure(storage.move('f', 'g'));
    expect(error.errorName).toBe('FileMissing');
    expect(error.message).toBe(`unable to move '${join(dir, 'f')}' to '${join(dir, 'g')}': no such file or directory`);
  });

  it('refuses to move across file systems', async () => {
    const other = '/dev/shm';
    if (!existsSync(other) || statSync(other).dev === statSync(dir).dev) return; // needs two file systems
    writeFileSync(join(dir, 'f'), 'x');
    const target = join(other, `pgkeep-move-${process.pid}`);
    const error = await failure(storage.move('f', target));
    expect(error.errorName).toBe('FileMove');
    expect(error.message).toBe(
      `unable to move '${join(dir, 'f')}' to '${target}': source and destination are on different file systems`,
    );
    expect(error.hint).toBe('a move is a rename: keep the source and the destination on the same file system');
    expect(existsSync(join(dir, 'f'))).toBe(true);
    expect(existsSync(target)).toBe(false);
  });

  it('creates directories with their mode, recursively unless told otherwise', async () => {
    await storage.pathCreate('a/b', { mode: 0o770 });
    expect(modeOf(join(dir, 'a'))).toBe(0o770);
    expect(modeOf(join(dir, 'a/b'))).toBe(0o770);
    await storage.pathCreate('a/b');
    await storage.pathCreate('a/b', { recurse: false });
    await storage.pathCreate('a/open', { recurse: false, mode: 0o777 });
    expect(modeOf(join(dir, 'a/open'))).toBe(0o777);
    const exists = await failure(storage.pathCreate('a/b', { errorOnExists: true }));
    expect(exists.errorName).toBe('PathCreate');
    expect(exists.message).toBe(`unable to create directory '${join(dir, 'a/b')}': file already exists`);
    const missing = await failure(storage.pathCreate('x/y', { recurse: false }));
    expect(missing.errorName).toBe('PathMissing');
    await storage.pathCreate('x/y/z', { errorOnExists: true, mode: 0o700 });
    expect(modeOf(join(dir, 'x/y/z'))).toBe(0o700);
    expect(modeOf(join(dir, 'x'))).toBe(0o700);
    writeFileSync(join(dir, 'file'), '');
    expect((await failure(storage.pathCreate('file', { recurse: false }))).errorName).toBe('PathCreate');
    expect((await failure(storage.pathCreate('file'))).errorName).toBe('PathCreate');
  });

  it('syncs directories and reports a missing one', async () => {
    await storage.pathSync('.');
    const error = await failure(storage.pathSync('missing'));
    expect(error.errorName).toBe('PathMissing');
    expect(error.message).toBe(`unable to open directory '${join(dir, 'missing')}': no such file or directory`);
  });

  it('creates symbolic and hard links', async () => {
    writeFileSync(join(dir, 'f'), 'x');
    await storage.symlink('f', 'link');
    expect((await storage.info('link'))!.linkDestination).toBe('f');
    expect((await storage.readBuffer('link'))!.toString()).toBe('x');
    const exists = await failure(storage.symlink('f', 'link'));
    expect(exists.errorName).toBe('FileExists');
    expect(exists.message).toBe(`unable to create link '${join(dir, 'link')}' to 'f': file already exists`);
    expect((await failure(storage.symlink('f', 'no/dir/link'))).errorName).toBe('PathMissing');

    await storage.hardlink('f', 'hard');
    expect(statSync(join(dir, 'hard')).ino).toBe(statSync(join(dir, 'f')).ino);
    expect(statSync(join(dir, 'f')).nlink).toBe(2);
    const missingSource = await failure(storage.hardlink('nothing', 'hard2'));
    expect(missingSource.errorName).toBe('FileMissing');
    expect(missingSource.message).toContain(`'${join(dir, 'nothing')}'`);
    expect((await failure(storage.hardlink('f', 'no/dir/hard'))).errorName).toBe('PathMissing');
    expect((await failure(storage.hardlink('f', 'hard'))).errorName).toBe('FileExists');
  });
});
