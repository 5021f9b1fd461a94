// Helpers of the archive benchmark: run programs as the postgres user, make a PostgreSQL 15
// cluster with a backlog of WAL segments waiting for archive_command.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export function postgresUser() {
  const fields = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim().split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] };
}

const user = postgresUser();

export function mkdirAsPostgres(path) {
  mkdirSync(path, { recursive: true, mode: 0o750 });
  chownSync(path, user.uid, user.gid);
}

/** Runs a program as postgres; resolves with its exit code, output and wall time in ms. */
export function runAs(program, args, { cwd, env, check = true } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(program, args, {
      cwd,
      uid: user.uid,
      gid: user.gid,
      env: { PATH: process.env.PATH, HOME: user.home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (check && code !== 0) reject(new Error(`${program} ${args.join(' ')} exited with ${code}\n${stdout}${stderr}`));
      else resolve({ code, stdout, stderr, ms });
    });
  });
}

/** A stopped cluster in `root`/data whose pg_wal holds at least `segments` finished segments marked .ready. */
export async function clusterWithBacklog(root, segments) {
  const dataDir = join(root, 'data');
  await runAs(
    join(PG_BIN, 'initdb'),
    ['--no-sync', '-k', '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '-D', dataDir],
    {
      cwd: root,
    },
  );
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    [
      "listen_addresses = ''",
      `unix_socket_directories = '${root}'`,
      'fsync = off',
      'archive_mode = on',
      "archive_command = ''", // PostgreSQL 15 keeps the .ready files and archives nothing
      "max_wal_size = '8GB'",
      'checkpoint_timeout = 1h',
      '',
    ].join('\n'),
  );
  const pgCtl = (args) => runAs(join(PG_BIN, 'pg_ctl'), ['-D', dataDir, ...args], { cwd: root });
  await pgCtl(['start', '-w', '-l', join(root, 'postgresql.log')]);
  const psql = (sql) => runAs(join(PG_BIN, 'psql'), ['-h', root, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { cwd: root });
  // Rows shaped like pgbench_accounts, about two segments of WAL per batch: real WAL records and
  // full-page images, as compressible as production WAL.
  await psql('CREATE TABLE accounts (aid int, bid int, abalance int, filler char(84)) WITH (fillfactor = 90)');
  const ready = () =>
    runAs('/bin/sh', ['-c', `ls ${join(dataDir, 'pg_wal', 'archive_status')} | grep -c '\\.ready$' || true`], { cwd: root });
  for (let batch = 0; Number((await ready()).stdout) < segments; batch++) {
    await psql(
      `INSERT INTO accounts SELECT g, g / 100000, ((g::bigint * 7919) % 10000)::int, md5(g::text) FROM generate_series(${batch * 200000}, ${batch * 200000 + 199999}) g`,
    );
  }
  await pgCtl(['stop', '-w', '-m', 'fast']);
  return dataDir;
}
