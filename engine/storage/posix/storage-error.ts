import { dirname } from 'node:path';
import { getSystemErrorMap } from 'node:util';

import type { ErrorName } from '../../error/error-table.js';
import { isPgkeepError, PgkeepError } from '../../error/pgkeep-error.js';
import { processOwner } from './user-group.js';

/** What the storage was doing when a system call failed; it picks the error name and the wording. */
export type StorageAction =
  | 'openRead'
  | 'openWrite'
  | 'read'
  | 'write'
  | 'sync'
  | 'close'
  | 'info'
  | 'list'
  | 'pathCreate'
  | 'pathOpen'
  | 'pathSync'
  | 'remove'
  | 'pathRemove'
  | 'move'
  | 'owner'
  | 'mode'
  | 'time'
  | 'link';

interface ActionText {
  /** Error name for any failure but the ones with a name of their own (missing, permission). */
  readonly name: ErrorName;
  /** Error name when the errno is ENOENT. */
  readonly missing: ErrorName;
  /** `unable to <verb> '<path>'<suffix>` */
  readonly verb: string;
  readonly suffix?: string;
}

const actions: Record<StorageAction, ActionText> = {
  openRead: { name: 'FileOpen', missing: 'FileMissing', verb: 'open', suffix: ' for read' },
  openWrite: { name: 'FileOpen', missing: 'PathMissing', verb: 'open', suffix: ' for write' },
  read: { name: 'FileRead', missing: 'FileMissing', verb: 'read' },
  write: { name: 'FileWrite', missing: 'FileMissing', verb: 'write' },
  sync: { name: 'FileSync', missing: 'FileMissing', verb: 'sync' },
  close: { name: 'FileClose', missing: 'FileMissing', verb: 'close' },
  info: { name: 'FileInfo', missing: 'FileMissing', verb: 'get info for' },
  list: { name: 'PathOpen', missing: 'PathMissing', verb: 'list directory' },
  pathCreate: { name: 'PathCreate', missing: 'PathMissing', verb: 'create directory' },
  pathOpen: { name: 'PathOpen', missing: 'PathMissing', verb: 'open directory' },
  pathSync: { name: 'PathSync', missing: 'PathMissing', verb: 'sync directory' },
  remove: { name: 'FileRemove', missing: 'FileMissing', verb: 'remove' },
  pathRemove: { name: 'PathRemove', missing: 'PathMissing', verb: 'remove directory' },
  move: { name: 'FileMove', missing: 'FileMissing', verb: 'move' },
  owner: { name: 'FileOwner', missing: 'FileMissing', verb: 'set owner of' },
  mode: { name: 'FileMode', missing: 'FileMissing', verb: 'set mode of' },
  time: { name: 'FileInfo', missing: 'FileMissing', verb: 'set modification time of' },
  link: { name: 'FileOpen', missing: 'PathMissing', verb: 'create link' },
};

let systemErrors: Map<number, [string, string]> | undefined;

/** The OS's reason in words (`permission denied`), from the errno when Node knows it. */
export function systemReason(error: NodeJS.ErrnoException): string {
  systemErrors ??= getSystemErrorMap();
  const known = error.errno === undefined ? undefined : systemErrors.get(error.errno);
  if (known !== undefined) return known[1];
  // Node's own message is `CODE: reason, syscall 'path'`; keep just the reason.
  const match = /^[A-Z0-9_]+: ([^,]+)/.exec(error.message);
  return match?.[1] ?? error.message;
}

/**
 * Turns an error thrown by a file system call into a PgkeepError that names the path, the OS
 * reason and, where there is one, what to do. A PgkeepError passes through unchanged.
 *
 * `target` names the second path of a two-path operation (move, link).
 */
export function storageError(error: unknown, action: StorageAction, path: string, target?: string): PgkeepError {
  if (isPgkeepError(error)) return error;
  const errno = error as NodeJS.ErrnoException;
  const code = typeof errno?.code === 'string' ? errno.code : undefined;
  const text = actions[action];
  const reason =
    code === 'EXDEV'
      ? 'source and destination are on different file systems'
      : error instanceof Error
        ? systemReason(errno)
        : String(error);
  const where = target === undefined ? `'${path}'` : `'${path}' to '${target}'`;
  const message = `unable to ${text.verb} ${where}${text.suffix ?? ''}: ${reason}`;
  const detail = { cause: error, hint: hintFor(code, action, path) };

  if (code === 'EACCES' || code === 'EPERM') return new PgkeepError(action === 'owner' ? 'FileOwner' : 'Access', message, detail);
  if (code === 'ENOENT') return new PgkeepError(text.missing, message, detail);
  if (code === 'EEXIST' && action === 'link') return new PgkeepError('FileExists', message, detail);
  return new PgkeepError(text.name, message, detail);
}

function hintFor(code: string | undefined, action: StorageAction, path: string): string | undefined {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      if (action === 'owner') return 'only root can give a file to another user: run as root or leave the owner unchanged';
      return `does '${processOwner()}' running pgkeep have permission on '${path}' and search (x) permission on the directories above it?`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `free space on the file system of '${dirname(path)}'`;
    case 'EROFS':
      return `the file system of '${path}' is mounted read-only`;
    case 'EMFILE':
    case 'ENFILE':
      return 'raise the limit of open files (ulimit -n) or lower process-max';
    case 'EXDEV':
      return 'a move is a rename: keep the source and the destination on the same file system';
    case 'ENOENT':
      if (action === 'openWrite' || action === 'link') return `create the directory '${dirname(path)}' first`;
      return undefined;
    default:
      return undefined;
  }
}
