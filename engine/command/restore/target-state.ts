import { constants, type Stats } from 'node:fs';
import { access, lstat, readdir, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { MANIFEST_FILE } from '../../repo/manifest/manifest.js';
import { storageError } from '../../storage/posix/storage-error.js';
import { problem, problemOf, type Problem } from './problems.js';
import { AUTO_CONF, RECOVERY_SIGNAL, STANDBY_SIGNAL } from './recovery-settings.js';
import type { MappedTarget } from './target-map.js';

export const POSTMASTER_PID = 'postmaster.pid';

export interface TargetState {
  /** Whether the restore directory exists (as a directory, links followed for the user's own paths). */
  readonly exists: boolean;
  /** Holds nothing but what a restore ignores. */
  readonly empty: boolean;
  /** Whether the target's root (its location, or the directory holding a linked file) exists. */
  readonly rootExists: boolean;
  readonly filesystem: string;
  /** Bytes free for the user on that file system; undefined when statfs failed. */
  readonly free: number | undefined;
  /** The tablespace's PG_<version> directory is not a real directory (a link, a file): delta removes it. */
  readonly wrongType: 'file' | 'link' | 'special' | undefined;
}

export interface TargetInspection {
  readonly states: Map<string, TargetState>;
  readonly problems: Problem[];
  readonly warnings: string[];
  /** --delta/--force after the check that the data directory is one (else they are off, as in pgBackRest). */
  readonly delta: boolean;
  readonly force: boolean;
  /** A restore marker (backup.manifest) is in the data directory: an earlier restore was interrupted. */
  readonly interrupted: boolean;
}

export interface InspectOptions {
  readonly delta: boolean;
  readonly force: boolean;
  /** Files in the data directory's root that do not make it non-empty. */
  readonly preserve: boolean;
  readonly uid: number;
}

/** Names in the data directory's root a restore ignores: its own marker, and preserved recovery files. */
export function ignoredInDataRoot(preserve: boolean): Set<string> {
  return new Set(preserve ? [MANIFEST_FILE, AUTO_CONF, RECOVERY_SIGNAL, STANDBY_SIGNAL] : [MANIFEST_FILE]);
}

/**
 * The state of every target before anything is written (pgBackRest's restorePathValidate and the
 * first step of restoreCleanBuild): PostgreSQL must not run in the data directory; --delta and
 * --force need a data directory that looks like one; each target must exist as a directory or have
 * an existing parent to be created in, be writable (and the user's own, unless root), and be empty
 * without --delta. Every failure is collected as a problem, none thrown.
 */
export async function inspectTargets(targets: readonly MappedTarget[], options: InspectOptions): Promise<TargetInspection> {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const states = new Map<string, TargetState>();
  const data = targets.find((target) => target.kind === 'data')!;
  const root = options.uid === 0;

  if ((await lstatOrUndefined(join(data.absolutePath, POSTMASTER_PID))) !== undefined) {
    problems.push(
      problem('PgRunning', 'unable to restore while PostgreSQL is running', {
        hint: `presence of '${POSTMASTER_PID}' in '${data.absolutePath}' indicates PostgreSQL is running: stop it first, and remove '${POSTMASTER_PID}' only if PostgreSQL is not running`,
      }),
    );
  }
  const interrupted = (await lstatOrUndefined(join(data.absolutePath, MANIFEST_FILE)))?.isFile() === true;
  let delta = options.delta;
  let force = options.force;
  if ((delta || force) && (await lstatOrUndefined(join(data.absolutePath, 'PG_VERSION'))) === undefined && !interrupted) {
    warnings.push(
      `--delta or --force specified but unable to find 'PG_VERSION' or '${MANIFEST_FILE}' in '${data.absolutePath}' to confirm that this is a valid $PGDATA directory: --delta and --force have been disabled and if any files exist in the destination directories the restore will be aborted`,
    );
    delta = false;
    force = false;
  }
  const cleaning = delta || force;

  for (const target of targets) {
    // The directory that must exist or be creatable: the data directory, a tablespace's location, a link's destination
    const rootInfo = await statOrUndefined(target.absolutePath);
    const placeInfo = rootInfo ?? (await statOrUndefined(dirname(target.absolutePath)));
    const where = rootInfo !== undefined ? target.absolutePath : dirname(target.absolutePath);
    let usable = true;
    if (rootInfo !== undefined && !rootInfo.isDirectory()) {
      problems.push(
        problem('PathOpen', `unable to restore to path '${target.absolutePath}' because it is not a directory`, {
          hint: describeTarget(target),
        }),
      );
      usable = false;
    } else if (placeInfo === undefined) {
      problems.push(
        problem(
          'PathMissing',
          `unable to restore to path '${target.absolutePath}': its parent directory '${dirname(target.absolutePath)}' does not exist`,
          {
            hint: `create it first, or choose another location for ${describeTarget(target)}`,
          },
        ),
      );
      usable = false;
    } else if (!placeInfo.isDirectory()) {
      problems.push(
        problem('PathOpen', `unable to restore to path '${target.absolutePath}': '${where}' is not a directory`, {
          hint: describeTarget(target),
        }),
      );
      usable = false;
    } else if (!(await writable(where)) || (!root && placeInfo.uid !== options.uid)) {
      // PathOpen (053) for both, as pgBackRest
      problems.push(
        problem(
          'PathOpen',
          !root && placeInfo.uid !== options.uid
            ? `unable to restore to path '${where}' not owned by current user`
            : `unable to restore to path '${where}' without rwx permissions`,
          { hint: `run the restore as the owner of '${where}' (usually postgres), or fix its permissions` },
        ),
      );
    }

    // The directory the restore writes and cleans (a tablespace's PG_<version> directory, or the root)
    let exists = false;
    let empty = true;
    let wrongType: TargetState['wrongType'];
    if (usable && rootInfo !== undefined) {
      if (target.kind === 'file-link') {
        const file = await lstatOrUndefined(join(target.absolutePath, target.file!));
        exists = true;
        empty = file === undefined;
        if (!empty && !cleaning)
          problems.push(
            problem(
              'FileExists',
              `unable to restore file '${join(target.absolutePath, target.file!)}' because it already exists`,
              {
                hint: 'try using --delta if this is what you intended',
              },
            ),
          );
      } else {
        const info = target.kind === 'tablespace' ? await lstatOrUndefined(target.restorePath) : rootInfo;
        if (info !== undefined && !info.isDirectory()) {
          wrongType = info.isSymbolicLink() ? 'link' : info.isFile() ? 'file' : 'special';
          empty = false;
        } else if (info !== undefined) {
          exists = true;
          const ignore = target.kind === 'data' ? ignoredInDataRoot(options.preserve) : new Set<string>();
          // A directory we may write but not read (mode 0300): only possible for a user other than root.
          const entries = await readdir(target.restorePath, { withFileTypes: true }).catch((error: unknown) => {
            problems.push(problemOf(storageError(error, 'list', target.restorePath)));
            return [];
          });
          empty = entries.every((entry) => entry.isFile() && ignore.has(entry.name));
        }
        if (!empty && !cleaning) {
          problems.push(
            problem('PathNotEmpty', `unable to restore to path '${target.restorePath}' because it contains files`, {
              hint:
                target.kind === 'data' && interrupted
                  ? `a restore into it was interrupted ('${MANIFEST_FILE}' is there): run it again with --delta to complete it`
                  : 'try using --delta if this is what you intended',
            }),
          );
        }
      }
    }

    const place = rootInfo !== undefined ? target.absolutePath : dirname(target.absolutePath);
    const device = placeInfo?.dev;
    states.set(target.name, {
      exists,
      empty,
      rootExists: rootInfo !== undefined,
      filesystem: device === undefined ? `unknown:${place}` : `dev:${device}`,
      free: placeInfo === undefined ? undefined : await freeBytes(place),
      wrongType,
    });
  }
  return { states, problems, warnings, delta, force, interrupted };
}

function describeTarget(target: MappedTarget): string {
  switch (target.kind) {
    case 'data':
      return 'the data directory (pg1-path)';
    case 'tablespace':
      return `tablespace '${target.tablespaceName}' (--tablespace-map=${target.tablespaceName}=<path>)`;
    default:
      return `link '${target.name.replace(/^pg_data\//, '')}' (--link-map=${target.name.replace(/^pg_data\//, '')}=<path>)`;
  }
}

/** Whether we may create entries in a directory (false for root only on a read-only file system). */
async function writable(path: string): Promise<boolean> {
  try {
    await access(path, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Free bytes for the user; undefined where statfs is not supported (the space check is then skipped). */
async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const info = await statfs(path);
    return info.bavail * info.bsize;
  } catch {
    return undefined;
  }
}

export async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch {
    return undefined;
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}
