import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The program's path when it is on PATH (a path with a slash is checked as is): an executable regular file. */
export function findProgram(program: string, path = process.env['PATH'] ?? ''): string | undefined {
  const candidates = program.includes('/')
    ? [program]
    : path
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here: try the next directory
    }
  }
  return undefined;
}
