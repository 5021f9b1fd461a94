import type { Config } from '../../config/config.js';
import { CIPHER_TYPE } from '../../filter/cipher.js';
import { PosixStorage } from '../../storage/posix/posix-storage.js';
import type { Storage } from '../../storage/storage.js';

/** The storage of repo<index> (posix; cifs behaves the same). */
export function repoStorage(config: Config, index: number): Storage {
  return new PosixStorage({ basePath: config.string('repo-path', index) });
}

/** repo<index>-cipher-pass when the repository is encrypted; undefined when it is not. */
export function repoCipherPass(config: Config, index: number): string | undefined {
  return config.stringOr('repo-cipher-type', index) === CIPHER_TYPE ? config.string('repo-cipher-pass', index) : undefined;
}

/** The repository a command that uses one works on: --repo, else the first configured (pgBackRest's default). */
export function defaultRepoIndex(config: Config): number {
  return config.numberOr('repo') ?? config.indexes('repo')[0]!;
}

/** The repositories a command works on: --repo=N alone, or every configured repoN. */
export function repoIndexes(config: Config): readonly number[] {
  const chosen = config.numberOr('repo');
  return chosen === undefined ? config.indexes('repo') : [chosen];
}
