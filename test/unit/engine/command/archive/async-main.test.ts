import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { runBackground } from '../../../../../engine/archive-async/async-main.js';
import { pushWalFile } from '../../../../../engine/command/archive-push/push-file.js';
import { log } from '../../../../../engine/log/logger.js';
import { acquireLock } from '../../../../../engine/repo/lock/lock.js';
import { PosixStorage } from '../../../../../engine/storage/posix/posix-storage.js';
import { ArchiveWorld, SEGMENTS } from './world.js';

let world: ArchiveWorld;
const signal = new AbortController().signal;
const logFile = (mode: string) => readFileSync(join(world.logPath, `main-${mode}-async.log`), 'utf8');

beforeEach(async () => {
  world = new ArchiveWorld();
  await world.createStanza();
});
afterEach(() => {
  log.configure({ console: 'off', stderr: 'off', file: 'off', timestamp: false, processId: 0 });
  world.destroy();
});

describe('the background process entry', () => {
  it('runs archive-get under the archive lock, logging to <stanza>-archive-get-async.log', async () => {
    world.segment(SEGMENTS[0], SEGMENTS[0], { ready: false });
    const repo = { index: 1, storage: new PosixStorage({ basePath: world.repoPath }), stanza: 'main', cipherPass: undefined };
    await pushWalFile(join(world.walDir, SEGMENTS[0]), repo, { compressType: 'lz4', headerCheck: true });
    const args = ['archive-get', `--config=${world.configPath}`, '--stanza=main', '--log-level-file=detail', SEGMENTS[0]];
    expect(await runBackground(args, signal)).toBe(0);
    const text = logFile('archive-get');
    expect(text).toMatch(/INFO: archive-get:async command begin [^\n]*\[000000010000000000000001\]/);
    expect(text).toContain(`DETAIL: found ${SEGMENTS[0]} in the repo1: 15-1 archive`);
    expect(text).toMatch(/INFO: archive-get:async command end: completed successfully/);
  });

  it('a failure ends it with the error code, logged', async () => {
    world.segment(SEGMENTS[0]);
    writeFileSync(join(world.lockPath, 'main.stop'), '');
    const args = ['archive-push', `--config=${world.configPath}`, '--stanza=main', world.walDir];
    expect(await runBackground(args, signal)).toBe(62);
    expect(logFile('archive-push')).toMatch(/ERROR: \[062\]: stop file exists for stanza main[^]*aborted with exception \[062\]/);
  });

  it('leaves the work to the background process that already holds the lock', async () => {
    const held = await acquireLock({ lockPath: world.lockPath, stanza: 'main', type: 'archive' });
    try {
      const args = ['archive-push', `--config=${world.configPath}`, '--stanza=main', world.walDir];
      expect(await runBackground(args, signal)).toBe(0);
      expect(logFile('archive-push')).toMatch(
        /archive-push:async command end: unable to acquire lock on file [^\n]*held by process/,
      );
    } finally {
      await held.release();
    }
  });

  it('refuses an unknown mode and a configuration that does not resolve', async () => {
    const lines: string[] = [];
    log.configure(
      { console: 'off', stderr: 'error', file: 'off', timestamp: false, processId: 0 },
      {
        stdout: () => {},
        stderr: (text) => lines.push(text),
      },
    );
    expect(await runBackground(['archive-list'], signal)).toBe(25);
    expect(await runBackground(['archive-push', '--no-such-option'], signal)).toBe(31);
    expect(lines.join('')).toMatch(/unknown asynchronous mode 'archive-list'[^]*unknown option '--no-such-option'/);
  });
});
