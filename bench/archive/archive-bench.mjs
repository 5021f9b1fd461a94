// archive_command benchmark: pgkeep and pgbackrest 2.45, both with archive-async and process-max 2,
// on the same backlog of real WAL segments of a PostgreSQL 15 cluster.
//
//   node scripts/build.mjs && node bench/archive/archive-bench.mjs [--segments 50,200] [--rounds 3] [--process-max 2] [--calls 30]
//
// Needs root (PostgreSQL and the archivers run as the postgres user), postgresql-15 and pgbackrest.
// Plain Node: it runs the built CLI in dist/ (or $PGKEEP_DIST) through the shell fast path
// dist/engine/archive-async/pgkeep-fast.sh, copied there from engine/ when the build did not.
//
// How: a cluster writes rows until pg_wal holds enough finished segments, then stops. For each
// run, N of them are marked .ready and a stand-in for PostgreSQL's archiver calls the
// archive_command for each in order, as PostgreSQL does (`sh -c '<command> pg_wal/<segment>'` in the
// data directory, as postgres, next segment when the call exits 0, renaming .ready to .done).
// - end-to-end: from the first call to the last success: all N segments in the repository;
// - per-call latency: each call's wall time (the process start included);
// - already pushed: the latency of a call for a segment whose .ok is in the spool (the common
//   case under load, answered by the fast path), median of --calls calls; for pgkeep also the
//   same call through the Node CLI, to show what the shell entry saves.
// Runs alternate between the tools, --rounds times; the medians are reported (a shared machine
// is noisy: the load average is printed too).
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os, { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { clusterWithBacklog, mkdirAsPostgres, postgresUser, runAs } from './cluster.mjs';

const { values } = parseArgs({
  options: {
    segments: { type: 'string', default: '50,200' },
    'process-max': { type: 'string', default: '2' },
    calls: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
    tools: { type: 'string', default: 'pgkeep,pgbackrest' },
    keep: { type: 'boolean', default: false },
    'log-level-file': { type: 'string', default: 'info' },
  },
});
const counts = values.segments.split(',').map(Number);
const tools = values.tools.split(',');
const root = join(import.meta.dirname, '..', '..');
const dist = process.env.PGKEEP_DIST ?? join(root, 'dist');

if (process.getuid?.() !== 0) {
  console.log('archive bench skipped: it runs PostgreSQL and the archivers as the postgres user, which needs root');
  process.exit(0);
}
for (const [file, what] of [
  ['/usr/lib/postgresql/15/bin/initdb', 'postgresql-15'],
  ['/usr/bin/pgbackrest', 'pgbackrest'],
  [join(dist, 'engine', 'cli.js'), "pgkeep's build (node scripts/build.mjs)"],
]) {
  if (!existsSync(file)) {
    console.error(`archive bench: ${file} is missing: install ${what}`);
    process.exit(1);
  }
}

// The shell entry ships beside the built CLI; copy it when the build did not.
const fastEntry = join(dist, 'engine', 'archive-async', 'pgkeep-fast.sh');
const fastSource = join(root, 'engine', 'archive-async', 'pgkeep-fast.sh');
if (existsSync(fastSource) && (!existsSync(fastEntry) || statSync(fastEntry).mtimeMs < statSync(fastSource).mtimeMs)) {
  copyFileSync(fastSource, fastEntry);
  chmodSync(fastEntry, 0o755);
}

const base = mkdtempSync(join(tmpdir(), 'pgkeep-bench-archive-'));
chmodSync(base, 0o755);
const paths = {
  pg: join(base, 'pg'),
  repo: join(base, 'repo'),
  spool: join(base, 'spool'),
  lock: join(base, 'lock'),
  log: join(base, 'log'),
  config: join(base, 'pgbackrest.conf'),
};
mkdirAsPostgres(paths.pg);

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const percentile = (list, p) => [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor(list.length * p))];
const ms = (value) => `${value.toFixed(1)} ms`;

try {
  const max = Math.max(...counts);
  process.stdout.write(`archive bench: writing ${max} WAL segments of table data... `);
  const started = Date.now();
  const dataDir = await clusterWithBacklog(paths.pg, max);
  const statusDir = join(dataDir, 'pg_wal', 'archive_status');
  const segments = readdirSync(statusDir)
    .filter((name) => /^[0-9A-F]{24}\.ready$/.test(name))
    .map((name) => name.slice(0, 24))
    .sort()
    .slice(0, max);
  const walBytes = segments.length * 16 * 1024 * 1024;
  console.log(`${segments.length} segments in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  writeFileSync(
    paths.config,
    [
      '[global]',
      `repo1-path=${paths.repo}`,
      `lock-path=${paths.lock}`,
      `log-path=${paths.log}`,
      `spool-path=${paths.spool}`,
      'compress-type=lz4',
      'archive-async=y',
      `process-max=${values['process-max']}`,
      `log-level-file=${values['log-level-file']}`,
      '',
      '[main]',
      `pg1-path=${dataDir}`,
      '',
    ].join('\n'),
  );
  chmodSync(paths.config, 0o644);
  // As in production, the configuration is older than any run (a file changed in the last 2 s
  // sends the fast path to Node: see engine/archive-async/fast-path.ts).
  const hourAgo = Date.now() / 1000 - 3600;
  utimesSync(paths.config, hourAgo, hourAgo);

  const commands = {
    pgkeep: `${fastEntry} --config=${paths.config} --stanza=main archive-push`,
    pgbackrest: `pgbackrest --config=${paths.config} --stanza=main archive-push`,
  };

  /** Only these segments are .ready; an empty repository with the stanza; empty spool and locks. */
  async function prepare(ready) {
    for (const name of readdirSync(statusDir)) rmSync(join(statusDir, name));
    const user = postgresUser();
    for (const segment of ready) {
      writeFileSync(join(statusDir, `${segment}.ready`), '');
      execFileSync('chown', [`${user.uid}:${user.gid}`, join(statusDir, `${segment}.ready`)]);
    }
    for (const dir of [paths.repo, paths.spool, paths.lock, paths.log]) {
      rmSync(dir, { recursive: true, force: true });
      mkdirAsPostgres(dir);
    }
    await runAs(join(dist, 'engine', 'cli.js'), [`--config=${paths.config}`, '--stanza=main', '--no-online', 'stanza-create'], {
      cwd: base,
    });
  }

  /** PostgreSQL's archiver, as a loop: one call at a time, in order, retried on failure. */
  async function archiver(command, ready) {
    const latencies = [];
    const started = process.hrtime.bigint();
    for (const segment of ready) {
      for (let attempt = 1; ; attempt++) {
        const call = await runAs('/bin/sh', ['-c', `${command} pg_wal/${segment}`], { cwd: dataDir, check: false });
        latencies.push(call.ms);
        if (call.code === 0) break;
        if (attempt === 3) throw new Error(`archive_command failed 3 times for ${segment}:\n${call.stdout}${call.stderr}`);
      }
      renameSync(join(statusDir, `${segment}.ready`), join(statusDir, `${segment}.done`));
    }
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, latencies };
  }

  /** Waits for the background process to end (it holds the archive lock), so runs do not overlap. */
  async function waitIdle() {
    const lockFile = join(paths.lock, 'main-archive.lock');
    for (let waited = 0; existsSync(lockFile) && waited < 30_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  }

  function archivedCount() {
    const dir = join(paths.repo, 'archive', 'main', '15-1');
    let count = 0;
    for (const sub of readdirSync(dir).filter((name) => /^[0-9A-F]{16}$/.test(name)))
      count += readdirSync(join(dir, sub)).filter((name) => /^[0-9A-F]{24}-[0-9a-f]{40}\.lz4$/.test(name)).length;
    return count;
  }

  /**
   * Calls for a segment already pushed (its .ok in the spool): what most calls are under load.
   * Measured once no background process runs (it would tidy the .ok away), for a segment name
   * PostgreSQL is not at (so nothing else touches it).
   */
  async function alreadyPushedLatency(command) {
    await waitIdle();
    const segment = '0000000100000000000000FE';
    const ok = join(paths.spool, 'archive', 'main', 'out', `${segment}.ok`);
    writeFileSync(ok, '');
    const user = postgresUser();
    execFileSync('chown', [`${user.uid}:${user.gid}`, ok]);
    const latencies = [];
    for (let call = 0; call < Number(values.calls); call++) {
      const result = await runAs('/bin/sh', ['-c', `${command} pg_wal/${segment}`], { cwd: dataDir });
      latencies.push(result.ms);
    }
    rmSync(ok);
    return median(latencies);
  }

  commands.pgkeepNode = `${process.execPath} ${join(dist, 'engine', 'cli.js')} --config=${paths.config} --stanza=main archive-push`;
  console.log(
    `load average before: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')} (${os.cpus().length} CPUs)`,
  );
  const runs = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const count of counts) {
      const ready = segments.slice(0, count);
      for (const tool of round % 2 === 1 ? tools : [...tools].reverse()) {
        await prepare(ready);
        const run = await archiver(commands[tool], ready);
        const archived = archivedCount();
        if (archived !== count) throw new Error(`${tool}: ${archived} of ${count} segments in the repository`);
        const hot = await alreadyPushedLatency(commands[tool]);
        const viaNode = tool === 'pgkeep' ? await alreadyPushedLatency(commands.pgkeepNode) : undefined;
        await waitIdle();
        runs.push({ round, segments: count, tool, ...run, hot, viaNode });
        console.log(
          `round ${round}: ${String(count).padStart(4)} segments  ${tool.padEnd(10)}  end-to-end ${run.seconds.toFixed(2).padStart(6)} s` +
            `  call p50 ${ms(median(run.latencies))}  already pushed ${ms(hot)}${viaNode === undefined ? '' : ` (through Node ${ms(viaNode)})`}`,
        );
      }
    }
  }

  const rows = [];
  for (const count of counts) {
    for (const tool of tools) {
      const mine = runs.filter((run) => run.segments === count && run.tool === tool);
      const latencies = mine.flatMap((run) => run.latencies);
      const seconds = median(mine.map((run) => run.seconds));
      const viaNode = mine.map((run) => run.viaNode).filter((value) => value !== undefined);
      rows.push({
        segments: count,
        tool,
        seconds,
        best: Math.min(...mine.map((run) => run.seconds)),
        secondsAll: mine.map((run) => Number(run.seconds.toFixed(3))),
        msPerSegment: (seconds * 1000) / count,
        mbPerSecond: (count * 16 * 1024 * 1024) / 1e6 / seconds,
        p50: median(latencies),
        p90: percentile(latencies, 0.9),
        max: Math.max(...latencies),
        alreadyPushed: median(mine.map((run) => run.hot)),
        ...(viaNode.length === 0 ? {} : { alreadyPushedThroughNode: median(viaNode) }),
      });
    }
  }
  console.log(
    `\nmedians (and best) of ${values.rounds} rounds (process-max ${values['process-max']}, compress-type lz4, archive-async):`,
  );
  console.log(
    'segments  tool        end-to-end    best  per segment  WAL rate     call p50   call p90   call max  already pushed',
  );
  for (const row of rows) {
    console.log(
      `${String(row.segments).padStart(8)}  ${row.tool.padEnd(10)}  ${row.seconds.toFixed(2).padStart(8)} s  ${row.best.toFixed(2).padStart(6)} s  ${row.msPerSegment.toFixed(1).padStart(8)} ms` +
        `  ${row.mbPerSecond.toFixed(0).padStart(5)} MB/s  ${ms(row.p50).padStart(9)}  ${ms(row.p90).padStart(9)}  ${ms(row.max).padStart(9)}` +
        `  ${ms(row.alreadyPushed).padStart(9)}${row.alreadyPushedThroughNode === undefined ? '' : ` (through Node: ${ms(row.alreadyPushedThroughNode)})`}`,
    );
  }
  console.log(
    `load average after: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );

  const nodeStart = [];
  for (let call = 0; call < 10; call++) nodeStart.push((await runAs(process.execPath, ['-e', '0'], { cwd: base })).ms);
  console.log(
    `reference: a bare Node start (node -e 0) takes ${ms(median(nodeStart))}; ${(walBytes / 1e9).toFixed(1)} GB of WAL`,
  );
  console.log(
    JSON.stringify({
      bench: 'archive',
      processMax: Number(values['process-max']),
      rounds: Number(values.rounds),
      nodeStartMs: median(nodeStart),
      rows,
    }),
  );
} finally {
  await runAs('/usr/lib/postgresql/15/bin/pg_ctl', ['-D', join(paths.pg, 'data'), 'stop', '-m', 'immediate'], {
    cwd: base,
    check: false,
  }).catch(() => undefined);
  if (!values.keep) rmSync(base, { recursive: true, force: true });
  else console.log(`kept ${base}`);
}
