import { describe, expect, it } from 'vitest';

import { PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import { storageError, systemReason } from '../../../../../engine/storage/posix/storage-error.js';
import { processOwner } from '../../../../../engine/storage/posix/user-group.js';

/** An error as Node's fs functions throw them. */
function systemError(code: string, errno: number, syscall = 'open', path = '/x'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: reason from the message, ${syscall} '${path}'`), { code, errno, syscall, path });
}

describe('storageError', () => {
  it('names permission failures Access, with the path, the OS reason and who needs access', () => {
    const error = storageError(systemError('EACCES', -13), 'openWrite', '/repo/archive.info');
    expect(error.errorName).toBe('Access');
    expect(error.code).toBe(105);
    expect(error.message).toBe("unable to open '/repo/archive.info' for write: permission denied");
    expect(error.hint).toBe(
      `does '${processOwner()}' running pgkeep have permission on '/repo/archive.info' and search (x) permission on the directories above it?`,
    );
    expect(storageError(systemError('EPERM', -1), 'remove', '/f').errorName).toBe('Access');
    expect(storageError(systemError('EPERM', -1), 'owner', '/f').errorName).toBe('FileOwner');
    expect(storageError(systemError('EPERM', -1), 'owner', '/f').hint).toContain('only root');
  });

  it('names missing files and directories by what the action needed', () => {
    const missing = systemError('ENOENT', -2);
    expect(storageError(missing, 'openRead', '/f').errorName).toBe('FileMissing');
    expect(storageError(missing, 'openWrite', '/d/f').errorName).toBe('PathMissing');
    expect(storageError(missing, 'list', '/d').errorName).toBe('PathMissing');
    expect(storageError(missing, 'pathSync', '/d').errorName).toBe('PathMissing');
    expect(storageError(missing, 'pathRemove', '/d').errorName).toBe('PathMissing');
    expect(storageError(missing, 'move', '/a', '/b').message).toBe("unable to move '/a' to '/b': no such file or directory");
  });

  it('names other failures by the action', () => {
    const io = systemError('EIO', -5);
    const names = (
      [
        'read',
        'write',
        'sync',
        'close',
        'info',
        'list',
        'pathCreate',
        'pathOpen',
        'pathSync',
        'remove',
        'pathRemove',
        'move',
        'owner',
        'mode',
        'time',
        'link',
      ] as const
    ).map((action) => storageError(io, action, '/p').errorName);
    expect(names).toEqual([
      'FileRead',
      'FileWrite',
      'FileSync',
      'FileClose',
      'FileInfo',
      'PathOpen',
      'PathCreate',
      'PathOpen',
      'PathSync',
      'FileRemove',
      'PathRemove',
      'FileMove',
      'FileOwner',
      'FileMode',
      'FileInfo',
      'FileOpen',
    ]);
    expect(storageError(io, 'read', '/p').message).toBe("unable to read '/p': i/o error");
    expect(storageError(io, 'read', '/p').cause).toBe(io);
  });

  it('gives hints for a full disk, a read-only file system and too many open files', () => {
    const full = storageError(systemError('ENOSPC', -28), 'write', '/repo/backup/f');
    expect([full.errorName, full.message, full.hint]).toEqual([
      'FileWrite',
      "unable to write '/repo/backup/f': no space left on device",
      "free space on the file system of '/repo/backup'",
    ]);
    // EDQUOT has no entry in Node's table: the reason comes from the message.
    const quota = storageError(systemError('EDQUOT', -122), 'write', '/repo/f');
    expect(quota.message).toBe("unable to write '/repo/f': reason from the message");
    expect(quota.hint).toBe("free space on the file system of '/repo'");
    expect(storageError(systemError('EROFS', -30), 'write', '/f').hint).toBe("the file system of '/f' is mounted read-only");
    expect(storageError(systemError('EMFILE', -24), 'openRead', '/f').hint).toContain('ulimit -n');
    expect(storageError(systemError('EBUSY', -16), 'remove', '/f').hint).toBeUndefined();
    expect(storageError(systemError('EXDEV', -18), 'move', '/a', '/b').hint).toBe(
      'a move is a rename: keep the source and the destination on the same file system',
    );
    expect(storageError(systemError('ENOENT', -2), 'read', '/f').hint).toBeUndefined();
  });

  it('passes a PgkeepError through and words anything else', () => {
    const own = new PgkeepError('Checksum', 'bad');
    expect(storageError(own, 'write', '/f')).toBe(own);
    expect(storageError('text thrown', 'write', '/f').message).toBe("unable to write '/f': text thrown");
    expect(storageError(new Error('plain'), 'write', '/f').message).toBe("unable to write '/f': plain");
    expect(systemReason(Object.assign(new Error('no code here'), { errno: -99999 }))).toBe('no code here');
  });
});
