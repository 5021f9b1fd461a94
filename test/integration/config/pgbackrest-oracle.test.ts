import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseCommandLine } from '../../../engine/config/command-line.js';
import type { CommandName } from '../../../engine/config/command-table.js';
import { resolveConfig } from '../../../engine/config/resolve.js';
import { run } from '../../harness/run.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

/**
 * The real pgbackrest binary is the oracle for option resolution: it prints every option it
 * resolved from a non-default source in its "command begin" line. pgkeep must resolve the same
 * options to the same values from the same files, environment and arguments.
 */
let dir: string;
let conf: string;
beforeAll(() => {
  dir = tempDir('config-oracle', null);
  conf = join(dir, 'pgbackrest.conf');
  writeFileSync(
    conf,
    `[demo]
pg1-path=/var/lib/postgresql/15/demo
pg1-port=5433
pg1-socket-path=/var/run/postgresql
recovery-option=primary_conninfo=host=x user=y # kept
db2-path=/var/lib/postgresql/15/standby

[demo:backup]
process-max=3

[demo:restore]
delta=y

[global]
repo1-path=/var/lib/pgbackrest
repo1-retention-full=2
repo2-path=/srv/repo2
repo2-retention-diff=3
start-fast=y
log-level-file=off
exclude=pg_log/
exclude=tmp/
process-max=2
compress-type=lz4
archive-async=y
spool-path=/var/spool/pgbackrest
buffer-size=2MiB
archive-timeout=120.5

[global:archive-push]
compress-level=3
process-max=4
archive-push-queue-max=1GiB

[global:archive-get]
archive-get-queue-max=256MiB
`,
  );
});
afterAll(() => removeDir(dir));

const cases: [CommandName, string[], Record<string, string>, string[]?][] = [
  ['archive-push', [], {}, ['/tmp/000000010000000000000001']],
  ['archive-get', [], { PGBACKREST_PROCESS_MAX: '5' }, ['000000010000000000000001', '/tmp/x']],
  ['backup', ['--no-online', '--type=full'], {}],
  ['backup', ['--reset-start-fast', '--repo=2'], { PGBACKREST_DELTA: 'y' }],
  [
    'restore',
    [
      '--type=time',
      '--target=2026-01-01 00:00:00+00',
      '--target-action=promote',
      '--tablespace-map=ts1=/a',
      '--tablespace-map=ts2=/b',
    ],
    {},
  ],
  ['expire', ['--repo1-retention-full=5'], {}],
  ['check', [], {}],
  ['stanza-create', [], {}],
  ['info', ['--output=json'], {}],
  ['verify', [], {}],
];

function pgbackrestWords(stdout: string): string[] {
  const line = stdout.split('\n').find((text) => text.includes(' command begin '));
  if (line === undefined) throw new Error(`no "command begin" line in:\n${stdout}`);
  return line
    .slice(line.indexOf(': ', line.indexOf('command begin')) + 2)
    .match(/\[[^\]]*\]|--[^ ]+(?: (?!--)[^ []+)*/g)!
    .filter((word) => !word.startsWith('[') && !word.startsWith('--exec-id='));
}

describe('option resolution matches pgbackrest 2.45', () => {
  it.each(cases)('%s %j', async (command, args, env, params = []) => {
    const common = [`--config=${conf}`, '--stanza=demo', '--log-level-console=debug', '--log-level-stderr=off'];
    const result = await run('pgbackrest', [...common, ...args, command, ...params], {
      env: { PATH: process.env.PATH, ...env },
      check: false,
    });
    const expected = pgbackrestWords(result.stdout);

    const ours = resolveConfig({
      command,
      commandLine: parseCommandLine([...common, ...args, command, ...params]),
      env,
    }).describe();
    expect({ missing: expected.filter((w) => !ours.includes(w)), extra: ours.filter((w) => !expected.includes(w)) }).toEqual({
      missing: [],
      extra: [],
    });
    expect(ours).toEqual(expected);
  });
});
