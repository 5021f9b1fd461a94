import { PgkeepError } from '../../error/pgkeep-error.js';
import type { Storage, StorageInfo } from '../../storage/storage.js';
import type { CommandContext } from '../command.js';
import { chosenRepo, repoRelativePath } from './repo-path.js';

type Sort = 'asc' | 'desc' | 'none';

/**
 * `pgkeep repo-ls [path]`: what the repository holds under a path (pgBackRest's repo-ls, same
 * output): names one per line, or with --output=json each name's type, and size and time of files
 * (`.` is the path itself). --recurse lists subdirectories depth first (a directory before its
 * content, after it with --sort=desc), --filter keeps the names matching a regular expression. A
 * path that is a file lists as `.`; a missing path lists as empty.
 */
export async function run({ config, out }: CommandContext): Promise<number> {
  if (config.params.length > 1) throw new PgkeepError('ParamInvalid', 'only one path may be specified');
  const repo = chosenRepo(config);
  const path = config.params.length === 1 ? repoRelativePath(config.params[0]!, repo.path) : '';
  const json = config.string('output') === 'json';
  const expression = config.stringOr('filter');
  const filter = expression === undefined ? undefined : regExp(expression);
  const entries: string[] = [];
  const render = (info: StorageInfo, name: string) => {
    if (!json) return entries.push(`${name}\n`);
    const fields: Record<string, string | number> = { type: info.type === 'special' ? 'special' : info.type };
    if (info.type === 'file') Object.assign(fields, { size: info.size, time: info.mtime });
    if (info.type === 'link') fields['destination'] = info.linkDestination ?? '';
    return entries.push(`${JSON.stringify(name)}:${JSON.stringify(fields)}`);
  };

  const self = await repo.storage.info(path, { ignoreMissing: true });
  if (self?.type === 'file') {
    if (filter === undefined || filter.test(repo.storage.resolve(path))) render(self, '.');
  } else {
    if (json && (filter === undefined || filter.test('.'))) render({ ...(self ?? placeholder), type: 'path' }, '.');
    await walk(repo.storage, path, '', {
      sort: config.string('sort') as Sort,
      recurse: config.boolean('recurse'),
      visit: (info, name) => {
        if (filter === undefined || filter.test(name)) render(info, name);
      },
    });
  }
  out(json ? `{${entries.join(',')}}\n` : entries.join(''));
  return 0;
}

const placeholder: StorageInfo = { name: '.', type: 'path', size: 0, mtime: 0, mode: 0, uid: 0, gid: 0, user: null, group: null };

/** pgBackRest's storage iterator: one directory at a time, depth first, each directory sorted. */
async function walk(
  storage: Storage,
  base: string,
  prefix: string,
  options: { sort: Sort; recurse: boolean; visit: (info: StorageInfo, name: string) => void },
): Promise<void> {
  const dir = [base, prefix].filter((part) => part !== '').join('/');
  const entries = await storage.list(dir, { ignoreMissing: true });
  if (options.sort !== 'none') entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (options.sort === 'desc') entries.reverse();
  for (const info of entries) {
    const name = prefix === '' ? info.name : `${prefix}/${info.name}`;
    const descend = info.type === 'path' && options.recurse;
    if (descend && options.sort === 'desc') await walk(storage, base, name, options);
    options.visit(info, name);
    if (descend && options.sort !== 'desc') await walk(storage, base, name, options);
  }
}

function regExp(expression: string): RegExp {
  try {
    return new RegExp(expression);
  } catch (error) {
    // FormatError (029), as pgBackRest for an expression its regex library refuses
    throw new PgkeepError(
      'Format',
      `'${expression}' is not a valid regular expression for option 'filter': ${(error as Error).message}`,
    );
  }
}
