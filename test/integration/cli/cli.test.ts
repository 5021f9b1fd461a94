import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { commandTable } from '../../../engine/config/command-table.js';
import { run } from '../../harness/run.js';
import { pgkeepBin } from '../../harness/stanza.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

/** The built, staged `pgkeep` executable, run as a user would run it. */
const pgkeep = (args: string[], user?: string) =>
  run(pgkeepBin(), args, { check: false, ...(user === undefined ? {} : { user }) });

describe('the pgkeep command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('cli');
  });
  afterAll(() => removeDir(dir));

  it('prints general, command and option help from the registry', async () => {
    const general = await pgkeep(['help']);
    expect(general.code).toBe(0);
    expect(general.stdout).toContain('pgkeep 0.1.0 - General help');
    expect(general.stdout).toMatch(
      new RegExp(`archive-push\\s+${commandTable['archive-push'].summary.replace(/^./, (c) => c.toUpperCase())}`),
    );
    expect(general.stdout).not.toContain('repo-put'); // known to the config registry, not implemented: not listed

    const command = await pgkeep(['help', 'archive-push']);
    expect(command.stdout).toContain("pgkeep 0.1.0 - 'archive-push' command help");
    expect(command.stdout).toMatch(/--compress-type\s+Compression of files written to the repository \[default=gz\]/);
    expect(command.stdout).toMatch(
      /Repository Options:[\s\S]*--repo-path\s+Directory of the repository \[default=\/var\/lib\/pgbackrest\]/,
    );
    expect(command.stdout).not.toContain('repo-s3-bucket'); // not supported by pgkeep: not offered

    const option = await pgkeep(['help', 'archive-push', 'process-max']);
    expect(option.stdout).toContain('range: 1 to 999');
    expect(option.stdout).toContain('default: 1');
    const secret = await pgkeep(['help', 'archive-push', 'repo1-cipher-pass']);
    expect(secret.stdout).toContain('secret: refused on the command line and never logged');

    expect((await pgkeep(['version'])).stdout).toBe('pgkeep 0.1.0\n');
  });

  it('refuses an unknown command with code 48', async () => {
    const result = await pgkeep(['bakup']);
    expect(result.code).toBe(48);
    expect(result.stderr).toBe("ERROR: [048]: unknown command 'bakup'\n       HINT: 'pgkeep help' lists the commands\n");
  });

  it('archive-push and archive-get without their arguments fail with code 43, as pgbackrest, naming the command PostgreSQL runs; with too many, 96', async () => {
    const config = join(dir, 'wal-args.conf');
    writeFileSync(config, `[global]\nrepo1-path=${dir}/repo\n[main]\npg1-path=${dir}/data\n`);
    const cases: [string[], string, string][] = [
      [['archive-push'], 'WAL file to push is required', "archive_command = 'pgkeep --stanza=<name> archive-push %p'"],
      [['archive-get'], 'WAL file name is required', `restore_command = 'pgkeep --stanza=<name> archive-get %f "%p"'`],
      [['archive-get', '000000010000000000000001'], 'destination of the WAL file is required', 'restore_command'],
    ];
    for (const [args, message, hint] of cases) {
      const [command, ...rest] = args;
      const result = await pgkeep([`--config=${config}`, '--stanza=main', command!, ...rest], 'postgres');
      expect(result.code).toBe(43);
      expect(result.stderr).toContain(`ERROR: [043]: ${message}`);
      expect(result.stderr).toContain(`HINT: use ${hint}`);
    }
    // More than they take: 96, as pgbackrest's archive-get (its archive-push says 43), never ignored
    for (const args of [
      ['archive-get', '000000010000000000000001', 'pg_wal/RECOVERYXLOG', 'extra'],
      ['archive-push', 'pg_wal/000000010000000000000001', 'extra'],
    ]) {
      const result = await pgkeep([`--config=${config}`, '--stanza=main', ...args], 'postgres');
      expect(result.code).toBe(96);
      expect(result.stderr).toContain('ERROR: [096]: extra parameters found: extra');
    }
  });

  it.each([
    [
      'unknown option',
      '[global]\nrepo1-path=/r\nrepo1-retention-ful=2\n',
      31,
      ":3: unknown option 'repo1-retention-ful' in section [global]",
      "did you mean 'repo1-retention-full'?",
    ],
    [
      'bad value',
      '[global]\nrepo1-path=/r\nbuffer-size=lots\n',
      32,
      ":3: 'lots' is not a size for option 'buffer-size'",
      'write a number of bytes with an optional unit, for example 1048576, 512KiB or 4MiB',
    ],
    [
      'duplicated key',
      '[global]\nrepo1-path=/r\nrepo1-path=/s\n',
      31,
      ":3: option 'repo1-path' is set twice in section [global]",
      'keep one of the two lines',
    ],
  ])(
    'a config file with %s gives a clear error naming file:line and exits with its code',
    async (_what, text, code, message, hint: string) => {
      const file = join(dir, `${code}-${text.length}.conf`);
      writeFileSync(file, text);
      const result = await pgkeep([`--config=${file}`, '--stanza=main', 'info']);
      expect(result.code).toBe(code);
      expect(result.stderr).toContain(`ERROR: [0${code}]: ${file}${message}`);
      expect(result.stderr).toContain(`HINT: ${hint}`);
    },
  );

  it('refuses to run archive-push as root, and runs as postgres', async () => {
    const file = join(dir, 'ok.conf');
    writeFileSync(file, `[global]\nrepo1-path=${dir}/repo\nlock-path=${dir}/lock\n[main]\npg1-path=${dir}/data\n`);
    const asRoot = await pgkeep([`--config=${file}`, '--stanza=main', 'archive-push', '000000010000000000000001']);
    expect(asRoot.code).toBe(133);
    expect(asRoot.stderr).toContain('ERROR: [133]: archive-push refuses to run as root');
    const asPostgres = await pgkeep([`--config=${file}`, '--stanza=main', 'info'], 'postgres');
    expect(asPostgres.code).toBe(0);
    expect(asPostgres.stdout).toContain('stanza: main\n    status: error (missing stanza path)');
  });
});
