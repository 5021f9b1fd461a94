import { posix } from 'node:path';

/**
 * Link destinations as pgBackRest 2.45 handles them: kept as written in the manifest (a relative
 * destination stays relative), made absolute only to look at what they point to.
 */

/** A destination made absolute against the directory holding the link; an absolute one is kept as written. */
export function pathAbsolute(destination: string, base: string): string {
  return destination.startsWith('/') ? destination : posix.resolve(base, destination);
}

/** The directory part, as pgBackRest's strPath: `/a/b` -> `/a`, `/b` -> `/`, `b` -> `` (one expression, no special cases). */
export function pathDirectory(path: string): string {
  return path.replace(/(.)\/[^/]*$|^(\/?)[^/]*$/, '$1$2');
}

/** The last component: `/a/b` -> `b`. */
export function pathBase(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
