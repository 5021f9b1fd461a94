import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { run } from '../../harness/run.js';
import { pgkeepBin, TestStanza } from '../../harness/stanza.js';

/** repo-ls and repo-get print what pgbackrest 2.45 prints, exit as it does, and repo-get streams any size. */
describe('repo-ls and repo-get, checked against pgbackrest', () => {
  let stanza: TestStanza;
  let label: string;

  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(1);
    await stanza.pgkeep(['--type=full', 'backup']);
    label = readdirSync(join(stanza.repoPath, 'backup/main')).find((name) => name.endsWith('F'))!;
  });
  afterAll(async () => {
    await stanza?.destroy();
  });

  const same = async (args: string[]) => {
    const ours = await stanza.pgkeep(args, { check: false });
    const theirs = await stanza.pgbackrest(args, { check: false });
    expect({ code: ours.code, stdout: ours.stdout }, args.join(' ')).toEqual({ code: theirs.code, stdout: theirs.stdout });
    return ours;
  };

  it('repo-ls: text and JSON, recursive in every sort order, filtered, a file, a missing path', async () => {
    await same(['repo-ls']);
    await same(['--output=json', 'repo-ls']);
    for (const sort of ['asc', 'desc'])
      expect((await same(['--recurse', `--sort=${sort}`, 'repo-ls', 'backup'])).stdout).toContain(
        `main/${label}/pg_data/PG_VERSION`,
      );
    await same(['--recurse', '--output=json', '--filter=info', 'repo-ls']);
    await same(['--recurse', '--output=json', '--filter=^main/[0-9A-F]{24}', 'repo-ls', 'archive']);
    await same(['--output=json', 'repo-ls', `${stanza.repoPath}/backup/main/backup.info`]);
    await same(['repo-ls', 'backup/main/backup.info']);
    // The latest link, with its destination
    expect((await same(['--output=json', 'repo-ls', 'backup/main'])).stdout).toContain(
      `"latest":{"type":"link","destination":"${label}"}`,
    );
    expect((await same(['--output=json', 'repo-ls', 'nothing/here'])).stdout).toBe('{".":{"type":"path"}}\n');
    expect((await same(['--output=json', 'repo-ls', `${stanza.repoPath}/`])).stdout).toContain('"backup":{"type":"path"}');
  });

  it('repo-get: the stored bytes of text and compressed files; a missing file fails, or exits 1 with --ignore-missing', async () => {
    expect((await same(['repo-get', 'backup/main/backup.info'])).stdout).toBe(
      readFileSync(join(stanza.repoPath, 'backup/main/backup.info'), 'utf8'),
    );
    await same(['repo-get', `${stanza.repoPath}/backup/main/${label}/pg_data/PG_VERSION.lz4`]);
    expect((await same(['repo-get', 'backup/main/nothing'])).code).toBe(55);
    expect((await same(['--ignore-missing', 'repo-get', 'backup/main/nothing'])).code).toBe(1);
  });

  it('repo-get streams a large file byte for byte, and ends quietly when its reader stops early', async () => {
    const data = join(stanza.repoPath, 'backup/main', label, 'pg_data/base');
    const largest = readdirSync(data, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0]!;
    const bash = (command: string) =>
      run('bash', ['-c', `set -o pipefail; ${command}`], {
        user: 'postgres',
        cwd: stanza.root,
        env: { PATH: process.env.PATH },
        check: false,
      });
    const pgkeep = `${pgkeepBin()} --config=${stanza.configPath} --stanza=main repo-get ${largest}`;
    expect(await bash(`${pgkeep} | sha1sum`)).toMatchObject({
      code: 0,
      stdout: `${createHash('sha1').update(readFileSync(largest)).digest('hex')}  -\n`,
    });
    expect(await bash(`${pgkeep} | head -c 10 | wc -c`)).toMatchObject({ code: 0, stdout: '10\n', stderr: '' });
  });

  it('refuses as pgbackrest: two paths, a path with //, an absolute path outside the repository, no file to get, a filter that is not a regular expression', async () => {
    await stanza.bothExit(96, ['repo-ls', 'a', 'b']);
    await stanza.bothExit(96, ['repo-ls', 'backup//main']);
    expect(await stanza.bothExit(96, ['repo-ls', '/etc'])).toContain(
      `absolute path '/etc' is not in base path '${stanza.repoPath}'`,
    );
    await stanza.bothExit(43, ['repo-get']);
    expect(await stanza.bothExit(29, ['--filter=(', 'repo-ls'])).toContain(
      "'(' is not a valid regular expression for option 'filter'",
    );
    // pgbackrest passes '..' to its storage, which reads the file outside the repository; pgkeep refuses it
    expect((await stanza.pgbackrest(['repo-get', '../pgbackrest.conf'])).stdout).toContain('[global]');
    expect(await stanza.pgkeep(['repo-get', '../pgbackrest.conf'], { check: false })).toMatchObject({
      code: 96,
      stderr: expect.stringContaining("path '../pgbackrest.conf' cannot contain '..'"),
    });
  });
});
