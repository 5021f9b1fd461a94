import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { tracingConfigIo, type Invocation } from '../../../../../engine/archive-async/config-trace.js';
import {
  fastPathDescriptor,
  fastPathDir,
  fastPathFile,
  removeFastPath,
  writeFastPath,
  type FastPathFacts,
} from '../../../../../engine/archive-async/fast-path.js';

const SCRIPT = join(import.meta.dirname, '..', '..', '..', '..', '..', 'engine', 'archive-async', 'pgkeep-fast.sh');
const SEGMENT = '000000010000000000000004';

let root: string;
let savedTmp: string | undefined;
let spool: string;
let lockPath: string;
let config: string;
let bin: string;
let fallbackLog: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pgkeep-fast-'));
  savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = join(root, 'tmp'); // fastPathDir() and the shell both follow TMPDIR
  mkdirSync(process.env.TMPDIR);
  spool = join(root, 'spool', 'archive', 'main', 'out');
  mkdirSync(spool, { recursive: true });
  lockPath = join(root, 'lock');
  mkdirSync(lockPath);
  config = join(root, 'pgbackrest.conf');
  writeFileSync(config, '[global]\narchive-async=y\n');
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(config, old, old);
  // A stand-in for Node on PATH: the fallback runs `node <dist>/engine/cli.js <args>`.
  bin = join(root, 'bin');
  mkdirSync(bin);
  fallbackLog = join(root, 'fallback');
  writeFileSync(join(bin, 'node'), `#!/bin/sh\nprintf '%s\\n' "$@" > ${fallbackLog}\nexit 42\n`);
  chmodSync(join(bin, 'node'), 0o755);
});
afterEach(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  rmSync(root, { recursive: true, force: true });
});

function args(extra: string[] = []): string[] {
  return [`--config=${config}`, '--stanza=main', ...extra, 'archive-push', `pg_wal/${SEGMENT}`];
}

function invocation(argv: string[], env: Record<string, string> = {}): Invocation {
  const { io, trace } = tracingConfigIo();
  io.readFile(config);
  io.listDir(join(root, 'conf.d')); // does not exist: must stay absent
  return { argv, env, configTrace: trace };
}

function facts(argv = args(), overrides: Partial<FastPathFacts> = {}): FastPathFacts {
  return {
    invocation: invocation(argv),
    walParam: argv.at(-1)!,
    walPath: join(root, 'data', argv.at(-1)!),
    backgroundArgs: ['/pgkeep/async-main.js', 'archive-push', `--config=${config}`, '--stanza=main'],
    stanza: 'main',
    outDir: spool,
    lockPath,
    archiveTimeoutMs: 60_000,
    ...overrides,
  };
}

interface ShellRun {
  code: number | null;
  ms: number;
  fallback: string[] | undefined;
}

/** Runs the shell entry as PostgreSQL would, with a fake `node` first on PATH. */
function shell(argv: string[], env: Record<string, string> = {}, script = SCRIPT): Promise<ShellRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn('/bin/sh', [script, ...argv], {
      cwd: root,
      env: { PATH: `${bin}:/usr/bin:/bin`, TMPDIR: process.env.TMPDIR, ...env },
      stdio: 'ignore',
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const fallback = existsSync(fallbackLog) ? readFileSync(fallbackLog, 'utf8').trimEnd().split('\n') : undefined;
      rmSync(fallbackLog, { force: true });
      resolve({ code, ms: Date.now() - started, fallback });
    });
  });
}

const ok = () => writeFileSync(join(spool, `${SEGMENT}.ok`), '');
const expectFallback = (run: ShellRun, argv = args()) => {
  expect(run.code).toBe(42);
  expect(run.fallback).toEqual([`${dirname(SCRIPT)}/../cli.js`, ...argv]);
};

describe('the fast path descriptor', () => {
  it('describes what the shell must check, one item per line', () => {
    const text = fastPathDescriptor(facts())!;
    expect(text.split('\n')).toEqual([
      'pgkeep-fast-path 1',
      `arg --config=${config}`,
      'arg --stanza=main',
      'arg archive-push',
      `out ${spool}`,
      `lock ${join(lockPath, 'main-archive.lock')}`,
      'wait-ms 5000',
      'wal-param-dir pg_wal',
      `wal-dir ${join(root, 'data', 'pg_wal')}`,
      `node ${process.execPath}`,
      'bg /pgkeep/async-main.js',
      'bg archive-push',
      `bg --config=${config}`,
      'bg --stanza=main',
      `absent ${join(lockPath, 'main.stop')}`,
      `absent ${join(lockPath, 'all.stop')}`,
      `newer ${config}`,
      `absent ${join(root, 'conf.d')}`,
      'env-count 0',
      'end',
      '',
    ]);
    expect(fastPathDescriptor(facts(args(), { archiveTimeoutMs: 3000 }))).toContain('\nwait-ms 1500\n');
  });

  it('lists the PGKEEP_ and PGBACKREST_ variables', () => {
    const withEnv = facts();
    const text = fastPathDescriptor({
      ...withEnv,
      invocation: { ...withEnv.invocation, env: { PGKEEP_LOG_PATH: '/log', PGBACKREST_REPO1_PATH: '/r', HOME: '/h' } },
    });
    expect(text).toContain('\nenv-count 2\nenv PGKEEP_LOG_PATH=/log\nenv PGBACKREST_REPO1_PATH=/r\nend\n');
  });

  it('is not written when the shell could not match it safely', () => {
    const base = facts();
    // the WAL path is not the last argument
    expect(fastPathDescriptor({ ...base, walParam: 'pg_wal/other' })).toBeUndefined();
    // no --stanza on the command line (the shell finds the descriptor by it)
    const noStanza = [`--config=${config}`, 'archive-push', `pg_wal/${SEGMENT}`];
    expect(fastPathDescriptor(facts(noStanza))).toBeUndefined();
    // %p without a directory
    expect(fastPathDescriptor(facts([...args().slice(0, -1), SEGMENT]))).toBeUndefined();
    // a newline would be read as another line
    expect(fastPathDescriptor(facts(args(['--repo1-path=/a\nout /evil'])))).toBeUndefined();
    expect(fastPathDescriptor({ ...base, invocation: { ...base.invocation, env: { PGKEEP_X: 'a\nb' } } })).toBeUndefined();
    expect(fastPathDescriptor({ ...base, invocation: { ...base.invocation, env: { 'PGKEEP_A-B': 'x' } } })).toBeUndefined();
    expect(fastPathDescriptor({ ...base, invocation: { ...base.invocation, argv: [] } })).toBeUndefined();
  });

  it('is written atomically in a private directory, backdated 2 s before the configuration was read', async () => {
    const described = facts();
    expect(await writeFastPath(described)).toBe(true);
    const file = fastPathFile('main');
    expect(file).toBe(join(fastPathDir(), 'archive-push.main'));
    expect(readFileSync(file, 'utf8')).toBe(fastPathDescriptor(described));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lstatSync(fastPathDir()).mode & 0o777).toBe(0o700);
    expect(Math.abs(statSync(file).mtimeMs - (described.invocation.configTrace.startedAt - 2000))).toBeLessThan(2);
    await removeFastPath('main');
    expect(existsSync(file)).toBe(false);
    await removeFastPath('main'); // nothing to remove: fine
  });

  it('is not written where others could write, nor when it cannot be described', async () => {
    chmodSync(process.env.TMPDIR!, 0o755);
    mkdirSync(fastPathDir(), { mode: 0o777 });
    chmodSync(fastPathDir(), 0o777);
    expect(await writeFastPath(facts())).toBe(false);
    rmSync(fastPathDir(), { recursive: true });
    symlinkSync(root, fastPathDir());
    expect(await writeFastPath(facts())).toBe(false);
    rmSync(fastPathDir());
    expect(await writeFastPath({ ...facts(), walParam: 'x' })).toBe(false);
    // a directory where the file goes: the write fails, nothing is left behind
    mkdirSync(fastPathDir(), { mode: 0o700 });
    mkdirSync(join(fastPathFile('main'), 'x'), { recursive: true });
    expect(await writeFastPath(facts())).toBe(false);
    expect(readdirSync(fastPathDir())).toEqual(['archive-push.main']);
    // no usable temporary directory at all
    process.env.TMPDIR = join(root, 'missing', 'tmp');
    expect(await writeFastPath(facts())).toBe(false);
  });
});

describe('the shell entry (pgkeep-fast.sh)', () => {
  it('answers a segment already pushed in sh, without Node', async () => {
    await writeFastPath(facts());
    ok();
    const run = await shell(args());
    expect(run).toMatchObject({ code: 0, fallback: undefined });
    // also with --stanza given as two words, and a TMPDIR with a trailing slash
    await writeFastPath(facts([`--config=${config}`, '--stanza', 'main', 'archive-push', `pg_wal/${SEGMENT}`]));
    expect(
      await shell([`--config=${config}`, '--stanza', 'main', 'archive-push', `pg_wal/${SEGMENT}`], {
        TMPDIR: `${process.env.TMPDIR}/`,
      }),
    ).toMatchObject({ code: 0, fallback: undefined });
  });

  it('runs Node with the same arguments whenever anything is not exactly as described', async () => {
    ok();
    expectFallback(await shell(args())); // no descriptor yet
    await writeFastPath(facts());
    expect((await shell(args())).code).toBe(0);

    expectFallback(await shell(args(['--process-max=2'])), args(['--process-max=2'])); // other options
    const otherConfig = [`--config=${config}x`, '--stanza=main', 'archive-push', `pg_wal/${SEGMENT}`];
    expectFallback(await shell(otherConfig), otherConfig);
    const get = [`--config=${config}`, '--stanza=main', 'archive-get', SEGMENT, `pg_wal/${SEGMENT}`];
    expectFallback(await shell(get), get); // another command
    const otherDir = [...args().slice(0, -1), `/elsewhere/${SEGMENT}`];
    expectFallback(await shell(otherDir), otherDir); // %p in another directory
    const badName = [...args().slice(0, -1), 'pg_wal/$(reboot)'];
    expectFallback(await shell(badName), badName);
    const noStanza = [`--config=${config}`, 'archive-push', `pg_wal/${SEGMENT}`];
    expectFallback(await shell(noStanza), noStanza);
    expectFallback(await shell(['archive-push']), ['archive-push']);

    expectFallback(await shell(args(), { PGKEEP_PROCESS_MAX: '4' })); // the environment changed
    writeFileSync(join(lockPath, 'main.stop'), ''); // stopped: Node reports it
    expectFallback(await shell(args()));
    rmSync(join(lockPath, 'main.stop'));
    mkdirSync(join(root, 'conf.d')); // an include directory appeared
    expectFallback(await shell(args()));
    rmSync(join(root, 'conf.d'), { recursive: true });
    expect((await shell(args())).code).toBe(0);
    writeFileSync(config, '[global]\narchive-async=n\n'); // the configuration changed after it was read
    expectFallback(await shell(args()));
  });

  it('checks the environment variables the descriptor lists', async () => {
    const described = facts();
    await writeFastPath({ ...described, invocation: { ...described.invocation, env: { PGBACKREST_LOG_PATH: '/log' } } });
    ok();
    expect((await shell(args(), { PGBACKREST_LOG_PATH: '/log' })).code).toBe(0);
    expectFallback(await shell(args(), { PGBACKREST_LOG_PATH: '/other' }));
    expectFallback(await shell(args()));
    expectFallback(await shell(args(), { PGBACKREST_LOG_PATH: '/log', PGKEEP_X: '1' }));
  });

  it('sends warnings and errors to Node: an .ok with content, an .error, global.error', async () => {
    await writeFastPath(facts());
    writeFileSync(join(spool, `${SEGMENT}.ok`), '0\ndropped WAL file');
    expectFallback(await shell(args()));
    rmSync(join(spool, `${SEGMENT}.ok`));
    writeFileSync(join(spool, `${SEGMENT}.error`), '44\nwrong cluster');
    expectFallback(await shell(args()));
    rmSync(join(spool, `${SEGMENT}.error`));
    writeFileSync(join(spool, 'global.error'), '62\nstop file exists');
    expectFallback(await shell(args()));
  });

  it('refuses a descriptor that is a link, or damaged', async () => {
    await writeFastPath(facts());
    ok();
    const file = fastPathFile('main');
    renameSync(file, `${file}.real`);
    symlinkSync(`${file}.real`, file);
    expectFallback(await shell(args()));
    rmSync(file);
    const text = readFileSync(`${file}.real`, 'utf8');
    for (const damaged of [
      text.replace('\nend\n', '\n'), // cut short
      text.replace('pgkeep-fast-path 1', 'pgkeep-fast-path 2'), // another format
      text.replace('\nend\n', '\nunknown x\nend\n'),
      text.replace('wait-ms 5000', 'wait-ms soon'),
      text.replace(/\nnode [^\n]*/, ''),
      text.replace('env-count 0', 'env-count 0\nenv BAD-NAME=x'),
      text.replace('arg archive-push', 'arg archive-push\narg extra'),
      text.replace(/\nbg [^\n]*/g, ''),
      text.replace('\nbg archive-push', '\nbg archive-push\narg late'),
      text.replace('arg --stanza=main\n', ''),
    ]) {
      writeFileSync(file, damaged, { mode: 0o600 });
      expectFallback(await shell(args()));
    }
  });

  it('waits for a queued segment while a live process holds the archive lock', async () => {
    await writeFastPath(facts());
    writeFileSync(join(lockPath, 'main-archive.lock'), JSON.stringify({ execId: `${process.pid}-0`, pid: process.pid }));
    setTimeout(ok, 150);
    const run = await shell(args());
    expect(run).toMatchObject({ code: 0, fallback: undefined });
    expect(run.ms).toBeGreaterThanOrEqual(140);
  });

  it('gives up after wait-ms, or as soon as the lock holder is gone, and lets Node report', async () => {
    await writeFastPath(facts(args(), { archiveTimeoutMs: 400 })); // waits 200 ms
    writeFileSync(join(lockPath, 'main-archive.lock'), JSON.stringify({ execId: `${process.pid}-0`, pid: process.pid }));
    const run = await shell(args());
    expectFallback(run);
    expect(run.ms).toBeGreaterThanOrEqual(190);
  });

  it('starts the background process itself when none runs, and waits for it', async () => {
    // The background process here is a script that writes the .ok; it gets the WAL directory last.
    const child = join(root, 'child.mjs');
    const argsSeen = join(root, 'child-args');
    writeFileSync(
      child,
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(argsSeen)}, process.argv.slice(2).join('\\n'));\n` +
        `setTimeout(() => writeFileSync(${JSON.stringify(join(spool, `${SEGMENT}.ok`))}, ''), 100);\n`,
    );
    await writeFastPath(facts(args(), { backgroundArgs: [child, 'archive-push', '--stanza=main'] }));
    // a stale lock of a process that is gone does not count
    writeFileSync(join(lockPath, 'main-archive.lock'), JSON.stringify({ execId: '999999-0', pid: 999_999_999 }));
    const run = await shell(args());
    expect(run).toMatchObject({ code: 0, fallback: undefined });
    expect(readFileSync(argsSeen, 'utf8').split('\n')).toEqual(['archive-push', '--stanza=main', join(root, 'data', 'pg_wal')]);
  });

  it('lets Node take over when the background process it started ends without an answer', async () => {
    const child = join(root, 'quits.mjs');
    writeFileSync(child, 'process.exit(3);\n');
    await writeFastPath(facts(args(), { backgroundArgs: [child] }));
    const run = await shell(args());
    expectFallback(run);
    expect(run.ms).toBeLessThan(4000);
  });

  it('finds the Node CLI beside its real location when run through a link', async () => {
    const link = join(root, 'pgkeep-archive');
    symlinkSync(SCRIPT, link);
    expectFallback(await shell(args(), {}, link));
  });
});
