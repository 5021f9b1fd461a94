import { pipeline } from 'node:stream';

import { PgkeepError } from '../../error/pgkeep-error.js';
import { DecryptFilter } from '../../filter/cipher.js';
import type { CommandContext } from '../command.js';
import { repoFilePass } from './cipher-pass.js';
import { chosenRepo, repoRelativePath } from './repo-path.js';

/**
 * `pgkeep repo-get <file>`: a repository file's bytes on standard output, as stored but decrypted
 * in an encrypted repository unless --raw (compressed files stay compressed). A missing file fails,
 * or with --ignore-missing exits 1. A reader that goes away early (`| head`) ends it quietly, as
 * pgBackRest.
 */
export async function run({ config, write }: CommandContext): Promise<number> {
  if (config.params.length !== 1) throw new PgkeepError('ParamRequired', 'source file required');
  const repo = chosenRepo(config);
  const file = repoRelativePath(config.params[0]!, repo.path);
  // The passphrase first, as pgBackRest: a path that does not tell it fails before anything is read.
  const pass = await repoFilePass(config, repo.index, repo.storage, file);
  const stored = await repo.storage.read(file, { ignoreMissing: config.boolean('ignore-missing') });
  if (stored === undefined) return 1;
  const source = pass === undefined ? stored : pipeline(stored, new DecryptFilter(pass, repo.storage.resolve(file)), () => {});
  /* v8 ignore next -- the CLI always passes write; the app's job runner has no repo-get job */
  if (write === undefined) throw new PgkeepError('Assert', 'repo-get needs binary output');
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    try {
      await write(chunk);
    } catch {
      source.destroy();
      break;
    }
  }
  return 0;
}
