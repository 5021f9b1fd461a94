import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { recordInvocation } from '../../../../../engine/archive-async/config-trace.js';
import { ASYNC_ENTRY, backgroundArgs, renderSettings, spawnBackground } from '../../../../../engine/archive-async/spawn.js';
import { parseCommandLine } from '../../../../../engine/config/command-line.js';
import { log, type LogRecord } from '../../../../../engine/log/logger.js';
import { ArchiveWorld } from './world.js';

let world: ArchiveWorld;
beforeEach(() => {
  world = new ArchiveWorld();
});
afterEach(() => world.destroy());

describe('the background process command line', () => {
  it('renders command-line settings exactly: values, flags, negations, resets, repeated lists', () => {
    const { settings } = parseCommandLine([
      '--stanza=main',
      '--archive-async',
      '--no-config',
      '--reset-compress-type',
      '--db-include=a',
      '--db-include=b',
      '--log-level-console=info',
      '--log-level-stderr=error',
      'restore',
    ]);
    expect(renderSettings(settings.values())).toEqual([
      '--stanza=main',
      '--archive-async',
      '--no-config',
      '--reset-compress-type',
      '--db-include=a',
      '--db-include=b',
    ]);
  });

  it('without a CLI invocation, rebuilds the options set on the command line from the configuration', () => {
    const config = world.config('archive-push', [
      '--process-max=3',
      '--archive-async',
      '--no-archive-header-check',
      '--log-level-console=info',
      'pg_wal/x',
    ]);
    const args = backgroundArgs('archive-push', config, ['/data/pg_wal']);
    expect(args[0]).toBe(ASYNC_ENTRY);
    expect(args.slice(1)).toEqual(
      expect.arrayContaining([
        'archive-push',
        `--config=${world.configPath}`,
        '--stanza=main',
        '--process-max=3',
        '--archive-async',
        '--no-archive-header-check',
        '--log-level-console=off',
        '--log-level-stderr=off',
      ]),
    );
    expect(args).not.toContain('--log-level-console=info');
    expect(args.at(-1)).toBe('/data/pg_wal');
  });

  it("with a CLI invocation, takes the CLI's own words (which keep --no-config and --reset-x)", () => {
    const argv = [`--config=${world.configPath}`, '--stanza=main', '--reset-process-max', 'archive-push', 'pg_wal/x'];
    recordInvocation(argv, {});
    const config = world.config('archive-push', ['pg_wal/x']);
    expect(backgroundArgs('archive-get', config, ['A', 'B'])).toEqual([
      ASYNC_ENTRY,
      'archive-get',
      `--config=${world.configPath}`,
      '--stanza=main',
      '--reset-process-max',
      '--log-level-console=off',
      '--log-level-stderr=off',
      'A',
      'B',
    ]);
  });

  it('starts the process detached and does not wait for it; a start failure is logged', async () => {
    const marker = join(world.root, 'started');
    const script = join(world.root, 'child.mjs');
    writeFileSync(script, `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, process.cwd());`);
    spawnBackground([script], world.dataDir);
    for (let waited = 0; !existsSync(marker) && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(marker, 'utf8')).toBe(world.dataDir);

    const records: LogRecord[] = [];
    const stop = log.subscribe((record) => records.push(record));
    spawnBackground([script], join(world.root, 'no-such-directory'));
    for (let waited = 0; records.length === 0 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    stop();
    expect(records[0]).toMatchObject({
      level: 'warn',
      message: expect.stringContaining('unable to start the asynchronous process'),
    });
  });
});
