import { describe, expect, it } from 'vitest';

import { parseCommandLine } from '../../../../engine/config/command-line.js';
import type { CommandName } from '../../../../engine/config/command-table.js';
import { resolveConfig } from '../../../../engine/config/resolve.js';
import { memoryIo } from './memory-io.js';
import { failure } from '../../failure.js';

/** A pgbackrest.conf as the pgBackRest user guide writes them. */
const DEMO_CONF = `[demo]
pg1-path=/var/lib/postgresql/15/demo
pg1-port=5433
# a comment
recovery-option=primary_conninfo=host=x user=y # kept: not a comment

[demo:backup]
process-max=3

[global]
repo1-path=/var/lib/pgbackrest
repo1-retention-full=2
start-fast=y
log-level-file=off
exclude=pg_log/
exclude=tmp/
process-max=2
compress-type=lz4

[global:archive-push]
compress-level=3
process-max=4
`;

function resolve(
  command: CommandName,
  args: string[],
  files: Record<string, string> = { '/etc/pgbackrest/pgbackrest.conf': DEMO_CONF },
  env = {},
) {
  return resolveConfig({ command, commandLine: parseCommandLine([...args, command]), env, io: memoryIo(files) });
}

const CONF = ['--config=/etc/pgbackrest/pgbackrest.conf', '--stanza=demo'];

describe('resolveConfig with a real pgbackrest.conf', () => {
  it('resolves archive-push as pgBackRest does: [global:archive-push] over [global], stanza section, defaults', () => {
    const config = resolve('archive-push', CONF);
    expect(config.number('process-max')).toBe(4);
    expect(config.number('compress-level')).toBe(3);
    expect(config.string('compress-type')).toBe('lz4');
    expect(config.string('pg-path', 1)).toBe('/var/lib/postgresql/15/demo');
    expect(config.string('repo-path', 1)).toBe('/var/lib/pgbackrest');
    expect(config.number('archive-timeout')).toBe(60);
    expect(config.has('start-fast')).toBe(false); // not an archive-push option
    // the words pgbackrest 2.45 prints in its "command begin" line for the same files (exec-id aside)
    expect(config.describe()).toEqual([
      '--compress-level=3',
      '--compress-type=lz4',
      '--config=/etc/pgbackrest/pgbackrest.conf',
      '--log-level-file=off',
      '--pg1-path=/var/lib/postgresql/15/demo',
      '--process-max=4',
      '--repo1-path=/var/lib/pgbackrest',
      '--stanza=demo',
    ]);
  });

  it('resolves backup: [demo:backup] over [global], lists, booleans, negation', () => {
    const config = resolve('backup', [...CONF, '--no-online', '--type=full']);
    expect(config.number('process-max')).toBe(3);
    expect(config.boolean('start-fast')).toBe(true);
    expect(config.boolean('online')).toBe(false);
    expect(config.list('exclude')).toEqual(['pg_log/', 'tmp/']);
    expect(config.number('repo-retention-full', 1)).toBe(2);
    expect(config.number('pg-port', 1)).toBe(5433);
    expect(config.has('compress-level')).toBe(false);
    expect(config.describe()).toEqual([
      '--compress-type=lz4',
      '--config=/etc/pgbackrest/pgbackrest.conf',
      '--exclude=pg_log/',
      '--exclude=tmp/',
      '--log-level-file=off',
      '--no-online',
      '--pg1-path=/var/lib/postgresql/15/demo',
      '--pg1-port=5433',
      '--process-max=3',
      '--repo1-path=/var/lib/pgbackrest',
      '--repo1-retention-full=2',
      '--stanza=demo',
      '--start-fast',
      '--type=full',
    ]);
  });

  it('keeps # inside values and parses key=value hashes', () => {
    const config = resolve('restore', CONF);
    expect(config.hash('recovery-option')).toEqual({ primary_conninfo: 'host=x user=y # kept: not a comment' });
  });

  it('gives the command line precedence over the environment over the file', () => {
    expect(resolve('backup', CONF, undefined, { PGBACKREST_PROCESS_MAX: '7' }).number('process-max')).toBe(7);
    expect(
      resolve('backup', CONF, undefined, { PGBACKREST_PROCESS_MAX: '7', PGKEEP_PROCESS_MAX: '8' }).number('process-max'),
    ).toBe(8);
    expect(resolve('backup', [...CONF, '--process-max=9'], undefined, { PGKEEP_PROCESS_MAX: '8' }).number('process-max')).toBe(9);
    expect(resolve('backup', [...CONF, '--process-max', '5']).resolved('process-max')).toMatchObject({
      value: 5,
      source: 'command-line',
    });
    expect(resolve('backup', CONF).resolved('process-max')).toMatchObject({
      source: 'config',
      place: '/etc/pgbackrest/pgbackrest.conf:8',
    });
  });

  it('--reset-<option> returns a file option to its default', () => {
    const config = resolve('backup', [...CONF, '--reset-start-fast', '--reset-process-max']);
    expect(config.boolean('start-fast')).toBe(false);
    expect(config.resolved('process-max')).toMatchObject({ value: 1, source: 'default' });
  });

  it('accepts boolean y/n from the environment and the command line', () => {
    expect(resolve('backup', CONF, undefined, { PGBACKREST_START_FAST: 'n' }).boolean('start-fast')).toBe(false);
    expect(resolve('backup', [...CONF, '--start-fast=n']).boolean('start-fast')).toBe(false);
    expect(resolve('backup', [...CONF, '--delta=y']).boolean('delta')).toBe(true);
  });
});

describe('configuration errors name the file and line, the option, and give a hint', () => {
  it('a parameter given to a command that takes none is refused before any file is read (096, as pgBackRest)', () => {
    const refused = failure(() =>
      resolveConfig({ command: 'backup', commandLine: parseCommandLine([...CONF, 'backup', 'full']), io: memoryIo({}) }),
    );
    expect(refused).toMatchObject({
      errorName: 'ParamInvalid',
      code: 96,
      message: 'command does not allow parameters',
      hint: "'full' is not an option: options start with --",
    });
    expect(
      resolveConfig({
        command: 'archive-get',
        commandLine: parseCommandLine([...CONF, 'archive-get', 'a', 'b']),
        io: memoryIo({ '/etc/pgbackrest/pgbackrest.conf': DEMO_CONF }),
      }).params,
    ).toEqual(['a', 'b']);
  });

  const file = (text: string) => ({ '/etc/pgkeep/pgkeep.conf': text });

  it('unknown option, with "did you mean"', () => {
    const error = failure(() =>
      resolve('backup', ['--stanza=demo'], file('[demo]\npg1-path=/d\n\n[global]\nrepo1-retention-ful=2\n')),
    );
    expect(error.code).toBe(31);
    expect(error.message).toBe("/etc/pgkeep/pgkeep.conf:5: unknown option 'repo1-retention-ful' in section [global]");
    expect(error.hint).toBe("did you mean 'repo1-retention-full'?");
    // Nothing close: where to look instead
    expect(failure(() => resolve('backup', ['--stanza=demo'], file('[demo]\npg1-path=/d\nzzz-qqq=1\n')))).toMatchObject({
      code: 31,
      hint: "'pgkeep help <command>' lists the options of each command",
    });
  });

  it('bad value: wrong type, out of range, not allowed, not y/n, not a path', () => {
    const bad = (line: string) => failure(() => resolve('backup', ['--stanza=demo'], file(`[demo]\npg1-path=/d\n${line}\n`)));
    expect(bad('process-max=two')).toMatchObject({
      code: 32,
      message: "/etc/pgkeep/pgkeep.conf:3: 'two' is not an integer for option 'process-max'",
    });
    expect(bad('process-max=1000')).toMatchObject({
      code: 32,
      message: "/etc/pgkeep/pgkeep.conf:3: '1000' is out of range for option 'process-max'",
      hint: 'allowed: 1 to 999',
    });
    expect(bad('compress-type=xz')).toMatchObject({ code: 32, hint: 'allowed: none, bz2, gz, lz4, zst' });
    expect(bad('start-fast=yes')).toMatchObject({
      code: 32,
      message: "/etc/pgkeep/pgkeep.conf:3: 'yes' is not y or n for option 'start-fast'",
    });
    expect(bad('repo1-path=relative/dir')).toMatchObject({
      code: 32,
      message: "/etc/pgkeep/pgkeep.conf:3: 'relative/dir' is not an absolute path for option 'repo1-path'",
    });
    expect(bad('buffer-size=3MiB')).toMatchObject({ code: 32, message: expect.stringContaining('not an allowed size') });
    expect(bad('archive-timeout=soon')).toMatchObject({ code: 32, hint: 'write seconds, for example 60 or 0.5' });
    expect(bad('process-max=')).toMatchObject({ code: 32, message: expect.stringContaining('an empty value') });
    expect(bad('exclude=')).toMatchObject({
      code: 32,
      message: "/etc/pgkeep/pgkeep.conf:3: '' is an empty value for option 'exclude'",
    });
    const badRestore = (line: string) =>
      failure(() => resolve('restore', ['--stanza=demo'], file(`[demo]\npg1-path=/d\n${line}\n`)));
    // 31, not 32, as pgbackrest ('key/value ... not valid')
    expect(badRestore('recovery-option=no-equals-sign')).toMatchObject({
      code: 31,
      message: "/etc/pgkeep/pgkeep.conf:3: 'no-equals-sign' is not key=value for option 'recovery-option'",
      hint: 'write recovery-option=key=value',
    });
    expect(badRestore('recovery-option==value')).toMatchObject({ code: 31, message: expect.stringContaining('not key=value') });
    expect(bad('repo1-path=/var//lib')).toMatchObject({
      code: 32,
      message: "/etc/pgkeep/pgkeep.conf:3: '/var//lib' is a path containing // for option 'repo1-path'",
      hint: 'remove the doubled slash',
    });
    expect(bad('buffer-size=1PiB')).toMatchObject({ code: 32, message: expect.stringContaining('not an allowed size') });
    expect(bad('manifest-save-threshold=0')).toMatchObject({ code: 32, hint: 'allowed: 1 to 1TiB' });
  });

  it('duplicated key in a section, and the same option under two names', () => {
    const twice = failure(() =>
      resolve('backup', ['--stanza=demo'], file('[demo]\npg1-path=/d\n[global]\nprocess-max=2\nprocess-max=3\n')),
    );
    expect(twice).toMatchObject({
      code: 31,
      message:
        "/etc/pgkeep/pgkeep.conf:5: option 'process-max' is set twice in section [global] (first at /etc/pgkeep/pgkeep.conf:4)",
    });
    expect(twice.hint).toBe('keep one of the two lines');
    const alias = failure(() => resolve('backup', ['--stanza=demo'], file('[demo]\npg1-path=/d\ndb-path=/e\n')));
    expect(alias).toMatchObject({
      code: 31,
      message: "/etc/pgkeep/pgkeep.conf:3: option 'pg1-path' is set twice in section [demo] (first at /etc/pgkeep/pgkeep.conf:2)",
    });
  });

  it('stanza option in [global], command-line option in a file, option not valid in a command section', () => {
    expect(failure(() => resolve('backup', ['--stanza=demo'], file('[global]\npg1-path=/d\n')))).toMatchObject({
      code: 31,
      message: "/etc/pgkeep/pgkeep.conf:2: option 'pg1-path' is not allowed in [global]",
    });
    expect(failure(() => resolve('backup', ['--stanza=demo'], file('[demo]\npg1-path=/d\nstanza=x\n')))).toMatchObject({
      code: 31,
      message: "/etc/pgkeep/pgkeep.conf:3: option 'stanza' can only be given on the command line",
    });
    expect(
      failure(() => resolve('backup', ['--stanza=demo'], file('[demo]\npg1-path=/d\n[global:backup]\nlink-all=y\n'))),
    ).toMatchObject({
      code: 31,
      message: "/etc/pgkeep/pgkeep.conf:4: option 'link-all' is not valid for command 'backup' in section [global:backup]",
    });
    expect(failure(() => resolve('backup', ['--stanza=demo'], file('[demo]\npg1-path=/d\nno-online=y\n')))).toMatchObject({
      code: 31,
      hint: "set the option to 'n' instead",
    });
    expect(failure(() => resolve('backup', ['--stanza=demo'], file('[demo]\npg1-path=/d\nreset-process-max=y\n')))).toMatchObject(
      {
        code: 31,
        message: "/etc/pgkeep/pgkeep.conf:3: 'reset-process-max' cannot be used in a configuration file",
        hint: 'set the option to its value instead',
      },
    );
    // In a stanza's command section: move it to the stanza's section
    expect(
      failure(() => resolve('backup', ['--stanza=demo'], file('[demo]\npg1-path=/d\n[demo:backup]\nlink-all=y\n'))),
    ).toMatchObject({ code: 31, hint: 'move it to [demo] or to the section of a command that takes it' });
  });

  it('ignores options of other commands in [global] and [stanza], as pgBackRest does', () => {
    const config = resolve(
      'archive-push',
      ['--stanza=demo'],
      file('[demo]\npg1-path=/d\n[global]\nstart-fast=y\narchive-mode=off\n'),
    );
    expect(config.has('start-fast')).toBe(false);
  });

  it('command line: unknown option, not valid for the command, secret, missing value, set twice', () => {
    expect(failure(() => parseCommandLine(['--stanzza=demo', 'backup']))).toMatchObject({
      code: 31,
      hint: "did you mean '--stanza'?",
    });
    expect(failure(() => parseCommandLine(['--repo1-retention-fulll=3']))).toMatchObject({
      code: 31,
      hint: "did you mean '--repo1-retention-full'?",
    });
    expect(failure(() => resolve('restore', [...CONF, '--start-fast']))).toMatchObject({
      code: 31,
      message: "option '--start-fast' is not valid for command 'restore'",
    });
    const secret = failure(() => parseCommandLine(['--repo1-cipher-pass=secret']));
    expect(secret).toMatchObject({ code: 31, message: "option 'repo1-cipher-pass' is not allowed on the command line" });
    expect(secret.hint).toContain('PGKEEP_REPO1_CIPHER_PASS');
    expect(failure(() => parseCommandLine(['--process-max']))).toMatchObject({
      code: 31,
      message: "option '--process-max' requires a value",
    });
    expect(failure(() => parseCommandLine(['--process-max=1', '--process-max=2']))).toMatchObject({ code: 31 });
    expect(failure(() => parseCommandLine(['-x']))).toMatchObject({ code: 31, message: "option '-x' must begin with --" });
    expect(failure(() => parseCommandLine(['--online=maybe']))).toMatchObject({ code: 32 });
    expect(failure(() => parseCommandLine(['--no-process-max']))).toMatchObject({
      code: 31,
      message: "option 'no-process-max' cannot be negated",
    });
    expect(failure(() => parseCommandLine(['--reset-stanza']))).toMatchObject({
      code: 31,
      message: "option 'reset-stanza' cannot be reset",
    });
    expect(failure(() => parseCommandLine(['--no-online=n']))).toMatchObject({
      code: 31,
      message: "option '--no-online' does not take a value",
    });
  });

  it('required options, with a hint for stanza options', () => {
    const error = failure(() => resolve('backup', ['--stanza=other'], file('[demo]\npg1-path=/d\n')));
    expect(error).toMatchObject({ code: 37, message: 'backup command requires option: pg1-path' });
    expect(error.hint).toContain('does this stanza exist?');
    expect(failure(() => resolve('backup', [], file('')))).toMatchObject({
      code: 37,
      message: 'backup command requires option: stanza',
    });
  });

  it('options that depend on another option', () => {
    expect(failure(() => resolve('restore', [...CONF, '--target=2026-01-01']))).toMatchObject({
      code: 31,
      message: "option 'target' is not valid without option 'type' in (lsn, name, time, xid)",
    });
    expect(resolve('restore', [...CONF, '--type=time', '--target=2026-01-01 00:00:00']).string('target')).toBe(
      '2026-01-01 00:00:00',
    );
    expect(failure(() => resolve('restore', [...CONF, '--type=time']))).toMatchObject({
      code: 37,
      message: 'restore command requires option: target',
    });
    // archive-copy resolves to n when archive-check is off, whatever the file says
    expect(
      resolve('backup', [...CONF, '--no-archive-check'], undefined, { PGKEEP_ARCHIVE_COPY: 'y' }).boolean('archive-copy'),
    ).toBe(false);
  });

  it('features pgkeep does not implement fail clearly', () => {
    expect(
      failure(() => resolve('backup', ['--stanza=demo'], file('[demo]\npg1-path=/d\n[global]\nrepo1-type=s3\n'))),
    ).toMatchObject({
      code: 67,
      message: '/etc/pgkeep/pgkeep.conf:4: repo1-type=s3 is not supported by pgkeep',
    });
    expect(
      failure(() => resolve('backup', ['--stanza=demo'], file('[demo]\npg1-path=/d\n[global]\nrepo1-bundle=y\n'))),
    ).toMatchObject({ code: 67 });
    // the same file is fine for a command that does not use the option
    expect(
      resolve('archive-get', ['--stanza=demo'], file('[demo]\npg1-path=/d\n[global]\nrepo1-bundle=y\n')).string('pg-path', 1),
    ).toBe('/d');
  });

  it('--repo names a configured repository (pgbackrest: 32 too)', () => {
    const conf = file('[global]\nrepo1-path=/r1\nrepo3-retention-full=2\n[demo]\npg1-path=/d\n');
    expect(failure(() => resolve('backup', ['--stanza=demo', '--repo=2'], conf))).toMatchObject({
      code: 32,
      message: "command line: repo2 is not configured: '2' is not valid for option 'repo'",
      hint: 'configured: repo1, repo3; a repository is configured by its repoN-path (or another repoN option)',
    });
    // repo3 has only a retention setting: its path is the default
    expect(resolve('backup', ['--stanza=demo', '--repo=3'], conf).string('repo-path', 3)).toBe('/var/lib/pgbackrest');
  });

  it('a cluster on another host is refused, not worked on as if it were local', () => {
    // pg2-host: the remote cluster may be any pgN, not only the one a command uses by default.
    const conf = file('[demo]\npg1-path=/d\npg2-path=/s\npg2-host=standby1\n');
    for (const command of ['backup', 'check', 'restore', 'archive-push'] as const) {
      expect(failure(() => resolve(command, ['--stanza=demo'], conf))).toMatchObject({
        code: 67,
        message:
          "option 'pg2-host' (/etc/pgkeep/pgkeep.conf:4): a cluster on another host is not supported by pgkeep yet: run pgkeep on the cluster's host, with a local pgN-path",
      });
    }
    // info reads only the repository
    expect(resolve('info', ['--stanza=demo'], conf).command).toBe('info');
  });
});

describe('option names', () => {
  it('indexed options, deprecated names and unindexed old names', () => {
    const files = {
      '/etc/pgkeep/pgkeep.conf':
        '[demo]\ndb-path=/old\ndb2-path=/second\n[global]\nrepo-path=/r1\nrepo2-path=/r2\nretention-full=4\n',
    };
    const config = resolve('backup', ['--stanza=demo'], files);
    expect(config.string('pg-path', 1)).toBe('/old');
    expect(config.string('pg-path', 2)).toBe('/second');
    expect(config.string('repo-path', 1)).toBe('/r1');
    expect(config.string('repo-path', 2)).toBe('/r2');
    expect(config.number('repo-retention-full', 1)).toBe(4);
    expect(config.indexes('repo')).toEqual([1, 2]);
    expect(config.indexes('pg')).toEqual([1, 2]);
  });

  it('rejects bad indexes and unindexed group options', () => {
    expect(failure(() => parseCommandLine(['--pg257-path=/x']))).toMatchObject({
      code: 31,
      message: expect.stringContaining('outside 1 to 256'),
    });
    expect(failure(() => parseCommandLine(['--pg-path=/x']))).toMatchObject({
      code: 31,
      message: "option 'pg-path' requires an index",
      hint: 'add the index, for example pg1-path',
    });
    expect(failure(() => parseCommandLine(['--stanza1-name=x']))).toMatchObject({ code: 31 });
    expect(failure(() => parseCommandLine(['--process1-max=1']))).toMatchObject({ code: 31 });
  });

  it('accepts a unique prefix on the command line, as pgBackRest does', () => {
    expect(parseCommandLine(['--stan=demo', 'info']).settings.get('stanza')?.texts).toEqual(['demo']);
  });

  it('sizes and times', () => {
    const files = {
      '/etc/pgkeep/pgkeep.conf':
        '[demo]\npg1-path=/d\n[global]\nbuffer-size=4MiB\narchive-timeout=0.5\nmanifest-save-threshold=2g\narchive-push-queue-max=1TB\n',
    };
    expect(resolve('backup', ['--stanza=demo'], files).number('buffer-size')).toBe(4 * 1024 * 1024);
    expect(resolve('backup', ['--stanza=demo'], files).number('archive-timeout')).toBe(0.5);
    expect(resolve('backup', ['--stanza=demo'], files).number('manifest-save-threshold')).toBe(2 * 1024 ** 3);
    expect(resolve('archive-push', ['--stanza=demo'], files).number('archive-push-queue-max')).toBe(1024 ** 4);
  });
});

describe('configuration file selection', () => {
  const main = '/etc/pgkeep/pgkeep.conf';
  it('reads the default file and conf.d/*.conf in name order', () => {
    const files = {
      [main]: '[demo]\npg1-path=/d\n',
      '/etc/pgkeep/conf.d/b.conf': '[global]\nprocess-max=3\n',
      '/etc/pgkeep/conf.d/a.conf': '[global]\nstart-fast=y\n',
      '/etc/pgkeep/conf.d/x.txt': 'ignored',
    };
    const config = resolve('backup', ['--stanza=demo'], files);
    expect(config.files).toEqual([main, '/etc/pgkeep/conf.d/a.conf', '/etc/pgkeep/conf.d/b.conf']);
    expect(config.number('process-max')).toBe(3);
  });

  it('reads an existing pgbackrest.conf alone when given with --config', () => {
    const files = { '/etc/pgbackrest/pgbackrest.conf': DEMO_CONF, '/etc/pgkeep/conf.d/a.conf': '[global]\nprocess-max=9\n' };
    expect(resolve('backup', CONF, files).files).toEqual(['/etc/pgbackrest/pgbackrest.conf']);
  });

  it('--config-path moves both defaults; --no-config skips the main file', () => {
    const files = { '/opt/k/pgkeep.conf': '[demo]\npg1-path=/d\n', '/opt/k/conf.d/a.conf': '[global]\nprocess-max=5\n' };
    expect(resolve('backup', ['--stanza=demo', '--config-path=/opt/k'], files).number('process-max')).toBe(5);
    expect(resolve('backup', ['--stanza=demo', '--config-path=/opt/k', '--no-config', '--pg1-path=/e'], files).files).toEqual([
      '/opt/k/conf.d/a.conf',
    ]);
  });

  it('a missing --config file or --config-include-path is an error; a missing default is not', () => {
    expect(failure(() => resolve('backup', ['--stanza=demo', '--config=/nope.conf'], {}))).toMatchObject({
      code: 55,
      message: "configuration file '/nope.conf' does not exist (command line)",
    });
    expect(failure(() => resolve('backup', ['--stanza=demo', '--config-include-path=/nope'], {}))).toMatchObject({ code: 73 });
    expect(resolve('info', [], {}).files).toEqual([]);
  });

  it('takes --config from the environment too', () => {
    const config = resolveConfig({
      command: 'backup',
      commandLine: parseCommandLine(['--stanza=demo']),
      env: { PGBACKREST_CONFIG: '/etc/pgbackrest/pgbackrest.conf' },
      io: memoryIo({ '/etc/pgbackrest/pgbackrest.conf': DEMO_CONF }),
    });
    expect(config.number('process-max')).toBe(3);
  });

  it('takes a secret from the environment, lists it for the logger, and shows it redacted in the command begin line', () => {
    const config = resolve(
      'repo-get',
      ['--repo=1'],
      { '/etc/pgkeep/pgkeep.conf': '[global]\nrepo1-path=/r\n' },
      {
        PGKEEP_CIPHER_PASS: 'hunter2',
      },
    );
    expect(config.string('cipher-pass')).toBe('hunter2');
    expect(config.secrets()).toEqual(['hunter2']);
    expect(config.describe()).toEqual(['--cipher-pass=<redacted>', '--repo=1', '--repo1-path=/r']);
    expect(config.describe().join(' ')).not.toContain('hunter2');
  });

  it('warns about unknown environment variables instead of failing', () => {
    const config = resolve('info', [], {}, { PGBACKREST_NOT_AN_OPTION: 'x' });
    expect(config.warnings).toEqual(["environment contains invalid option 'not-an-option' (PGBACKREST_NOT_AN_OPTION)"]);
  });
});

describe('reading a resolved configuration', () => {
  const config = () => resolve('backup', [...CONF, '--annotation=source=cron']);

  it('typed accessors give the value, or undefined for an option not set', () => {
    const resolved = config();
    expect(resolved.string('repo-path', 1)).toBe('/var/lib/pgbackrest');
    expect(resolved.stringOr('pg-host', 1)).toBeUndefined();
    expect(resolved.numberOr('repo-retention-diff', 1)).toBeUndefined();
    expect(resolved.booleanOr('start-fast')).toBe(true);
    expect(resolved.list('exclude')).toEqual(['pg_log/', 'tmp/']);
    expect(resolved.hash('annotation')).toEqual({ source: 'cron' });
    expect(resolved.value('process-max')).toBe(3);
    expect(resolved.resolved('process-max')).toMatchObject({ source: 'config', value: 3 });
  });

  it('a program error in reading an option is an Assert, not a user error', () => {
    const resolved = config();
    expect(failure(() => resolved.string('no-such-option'))).toMatchObject({
      errorName: 'Assert',
      message: "option 'no-such-option' is not in the registry",
    });
    expect(failure(() => resolved.string('repo-path'))).toMatchObject({
      errorName: 'Assert',
      message: "option 'repo-path' needs an index",
    });
    expect(failure(() => resolved.number('compress-type'))).toMatchObject({
      errorName: 'Assert',
      message: "option 'compress-type' is read as number but holds string",
    });
  });

  it('a required option that is not set names the command and the option', () => {
    expect(failure(() => config().string('pg-host', 1))).toMatchObject({
      errorName: 'OptionRequired',
      message: 'backup command requires option: pg1-host',
    });
  });
});
