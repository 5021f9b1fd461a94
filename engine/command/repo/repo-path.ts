import type { Config } from '../../config/config.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import type { Storage } from '../../storage/storage.js';
import { defaultRepoIndex, repoStorage } from '../common/storages.js';

/** The repository repo-ls and repo-get read (pgBackRest's default repository). */
export function chosenRepo(config: Config): { readonly index: number; readonly storage: Storage; readonly path: string } {
  const index = defaultRepoIndex(config);
  return { index, storage: repoStorage(config, index), path: config.string('repo-path', index) };
}

/**
 * A path given to repo-ls or repo-get as a path in the repository (pgBackRest's repoPathIsValid):
 * relative paths as they are, absolute ones only within the repository path; no `//`, no
 * trailing slash. Nothing can name a file outside the repository: `..` is refused too (pgBackRest
 * lets it through to its storage, which refuses it there).
 */
export function repoRelativePath(given: string, repoPath: string): string {
  if (given.includes('//')) throw new PgkeepError('ParamInvalid', `path '${given}' cannot contain //`);
  let path = given.endsWith('/') && given !== '/' ? given.slice(0, -1) : given;
  if (path.startsWith('/')) {
    if (path === repoPath) path = '';
    else if (repoPath !== '/' && !path.startsWith(`${repoPath}/`))
      throw new PgkeepError('ParamInvalid', `absolute path '${given}' is not in base path '${repoPath}'`, {
        hint: 'give a path relative to the repository, or one under its repo-path',
      });
    else path = path.slice(repoPath === '/' ? 1 : repoPath.length + 1);
  }
  if (path.split('/').includes('..'))
    throw new PgkeepError('ParamInvalid', `path '${given}' cannot contain '..'`, { hint: 'name a path within the repository' });
  return path;
}
