import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  changedConfigPath,
  currentInvocation,
  recordInvocation,
  tracingConfigIo,
} from '../../../../../engine/archive-async/config-trace.js';
import { parseCommandLine } from '../../../../../engine/config/command-line.js';
import { resolveConfig } from '../../../../../engine/config/resolve.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-trace-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function resolveWith(args: string[]) {
  const { io, trace } = tracingConfigIo();
  resolveConfig({ command: 'archive-push', commandLine: parseCommandLine([...args, 'archive-push', 'pg_wal/x']), env: {}, io });
  return trace;
}

describe('tracing what configuration resolution read', () => {
  it('records every file read and directory listed, existing or not', () => {
    const config = join(dir, 'pgkeep.conf');
    const include = join(dir, 'conf.d');
    writeFileSync(config, '[global]\nrepo1-path=/repo\n');
    mkdirSync(include);
    writeFileSync(join(include, 'a.conf'), '[global]\nlog-path=/log\n');
    const trace = resolveWith([`--config-path=${dir}`, '--stanza=main']);
    expect(trace.entries.map(({ path, kind, stamp }) => ({ path, kind, exists: stamp !== undefined }))).toEqual([
      { path: config, kind: 'file', exists: true },
      { path: include, kind: 'directory', exists: true },
      { path: join(include, 'a.conf'), kind: 'file', exists: true },
    ]);
    expect(trace.startedAt).toBeLessThanOrEqual(Date.now());
    expect(changedConfigPath(trace)).toBeUndefined();
  });

  it('notices a file rewritten, one copied over with its old mtime (ctime), one created, one removed', async () => {
    const config = join(dir, 'pgkeep.conf');
    writeFileSync(config, '[global]\nrepo1-path=/repo\n');
    let trace = resolveWith([`--config-path=${dir}`, '--stanza=main']);
    const include = join(dir, 'conf.d');
    expect(trace.entries.find((entry) => entry.path === include)?.stamp).toBeUndefined();
    mkdirSync(include);
    expect(changedConfigPath(trace)).toBe(include);

    const old = new Date(Date.now() - 3_600_000);
    utimesSync(config, old, old);
    trace = resolveWith([`--config=${config}`, '--stanza=main']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(config, '[global]\nrepo1-path=/other\n'); // same size
    utimesSync(config, old, old); // cp -p: the old mtime back, but a new ctime
    expect(changedConfigPath(trace)).toBe(config);
    trace = resolveWith([`--config=${config}`, '--stanza=main']);
    rmSync(config);
    expect(changedConfigPath(trace)).toBe(config);
  });

  it('the CLI records its invocation once, with the tracing io', () => {
    expect(currentInvocation()).toBeUndefined();
    const io = recordInvocation(['--stanza=main', 'archive-push', 'pg_wal/x'], { PGKEEP_LOG_PATH: '/log' });
    expect(io.readFile(join(dir, 'missing.conf'))).toBeUndefined();
    expect(io.listDir(join(dir, 'missing.d'))).toBeUndefined();
    writeFileSync(join(dir, 'a.conf'), 'x');
    expect(io.readFile(join(dir, 'a.conf'))).toBe('x');
    expect(io.readFile(join(dir, 'a.conf'))).toBe('x'); // recorded once
    expect(currentInvocation()).toMatchObject({
      argv: ['--stanza=main', 'archive-push', 'pg_wal/x'],
      env: { PGKEEP_LOG_PATH: '/log' },
    });
    expect(currentInvocation()!.configTrace.entries.map((entry) => entry.path)).toEqual([
      join(dir, 'missing.conf'),
      join(dir, 'missing.d'),
      join(dir, 'a.conf'),
    ]);
  });
});
