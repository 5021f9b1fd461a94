import { PgkeepError } from '../../../error/pgkeep-error.js';
import type { ManifestTarget } from '../../../repo/manifest/manifest.js';
import { compareBytes } from '../../../repo/info/json-value.js';

/**
 * Checks each link target as the walk finds it, as pgBackRest 2.45 does (manifestLinkCheckOne): a
 * destination must not be inside PGDATA, two links must not point to the same directory or file,
 * and no directory link may point inside another one's destination (restore would write one
 * target into the other). File links may share a directory with each other and sit in the parent
 * of a linked directory.
 *
 * Destinations are kept sorted with a trailing `/`, so a parent sorts right before its
 * subdirectories and only the neighbours of a new directory link need a look.
 */

interface Destination {
  /** Destination directory ending in `/`. */
  readonly path: string;
  /** The file name, for a file link. */
  readonly file: string | undefined;
  readonly target: ManifestTarget;
}

const HINT = 'point links and tablespaces outside the data directory, each to a location of its own';

export class LinkCheck {
  private readonly destinations: Destination[] = [];
  private readonly basePath: string;

  /** `pgPath` is the pg_data target's path. */
  constructor(pgPath: string) {
    this.basePath = `${pgPath}/`;
  }

  check(target: ManifestTarget): void {
    if (target.type !== 'link') return;
    const path = `${target.path}/`;
    if (path.startsWith(this.basePath)) {
      throw new PgkeepError('LinkDestination', `link '${pgName(target)}' destination '${target.path}' is in PGDATA`, {
        hint: HINT,
      });
    }

    const index = this.lowerBound(path);
    const same = this.destinations[index];
    if (same !== undefined && same.path === path) {
      if (target.file !== undefined && same.file !== undefined) {
        // Two file links in one directory are fine unless they name the same file
        if (target.file !== same.file) return;
        throw new PgkeepError(
          'LinkDestination',
          `link '${pgName(target)}' (${target.path}/${target.file}) destination is the same file as link ` +
            `'${pgName(same.target)}' (${same.target.path}/${same.file})`,
          { hint: HINT },
        );
      }
      throw new PgkeepError(
        'LinkDestination',
        `link '${pgName(target)}' (${target.path}) destination is the same directory as link ` +
          `'${pgName(same.target)}' (${same.target.path})`,
        { hint: HINT },
      );
    }

    this.destinations.splice(index, 0, { path, file: target.file, target });
    if (target.file !== undefined) return;

    // Destinations never nest, so the nearest directory link before is the only possible parent
    // and the nearest after the only possible child.
    const prior = this.nearestDirectoryLink(index, -1);
    if (prior !== undefined && path.startsWith(prior.path)) throw subdirectory(target, prior.target);
    const next = this.nearestDirectoryLink(index, 1);
    if (next !== undefined && next.path.startsWith(path)) throw subdirectory(next.target, target);
  }

  private nearestDirectoryLink(from: number, step: 1 | -1): Destination | undefined {
    for (let index = from + step; index >= 0 && index < this.destinations.length; index += step) {
      const destination = this.destinations[index]!;
      if (destination.file === undefined) return destination;
    }
    return undefined;
  }

  /** Index of the first destination not sorting before `path`. */
  private lowerBound(path: string): number {
    let low = 0;
    let high = this.destinations.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareBytes(this.destinations[middle]!.path, path) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

function subdirectory(inner: ManifestTarget, outer: ManifestTarget): PgkeepError {
  return new PgkeepError(
    'LinkDestination',
    `link '${pgName(inner)}' (${inner.path}) destination is a subdirectory of link '${pgName(outer)}' (${outer.path})`,
    { hint: HINT },
  );
}

/** The link's name as the user knows it: relative to PGDATA, tablespaces as `pg_tblspc/<oid>`. */
function pgName(target: ManifestTarget): string {
  return target.name.startsWith('pg_data/') ? target.name.slice('pg_data/'.length) : target.name;
}
