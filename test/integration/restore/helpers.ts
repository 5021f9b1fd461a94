import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { PgCluster } from '../../harness/pg-cluster.js';
import type { RunResult } from '../../harness/run.js';
import type { TestStanza } from '../../harness/stanza.js';
import type { RestorePlanJson } from '../../../engine/command/restore/plan-json.js';

/** Row count and an md5 of a table's rows in key order: equal results mean equal contents. */
export async function tableDigest(
  cluster: PgCluster,
  table: string,
  key = 'aid',
  database = 'postgres',
): Promise<{ rows: number; md5: string }> {
  const rows = await cluster.query<{ rows: string; md5: string | null }>(
    `SELECT count(*) AS rows, md5(string_agg(t::text, ',' ORDER BY ${key})) AS md5 FROM ${table} t`,
    [],
    database,
  );
  return { rows: Number(rows[0]!.rows), md5: rows[0]!.md5 ?? '' };
}

/**
 * A cluster to restore into: a PgCluster (its own port and socket directory) whose data
 * directory is emptied, so the restore fills it and the cluster starts from what was restored.
 */
export async function emptyCluster(): Promise<PgCluster> {
  const cluster = await PgCluster.create();
  for (const name of readdirSync(cluster.dataDir)) rmSync(join(cluster.dataDir, name), { recursive: true, force: true });
  return cluster;
}

/**
 * Starts a restored cluster on its own port (the restored postgresql.conf has the source's) with
 * archiving off (it must not push a new timeline into the test's archive), and waits until
 * recovery has ended (or paused at its target).
 */
export async function startRestored(cluster: PgCluster, options: { paused?: boolean; standby?: boolean } = {}): Promise<void> {
  cluster.configure({
    port: cluster.port,
    unix_socket_directories: `'${cluster.socketDir}'`,
    listen_addresses: "''",
    archive_mode: 'off',
  });
  await cluster.start();
  for (let attempt = 0; attempt < 600; attempt++) {
    const state = await cluster
      .query<{ recovery: boolean; paused: string }>(
        "SELECT pg_is_in_recovery() AS recovery, CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() ELSE 'not paused' END AS paused",
      )
      .catch(() => undefined);
    if (state !== undefined) {
      const row = state[0]!;
      if (options.standby ? row.recovery : options.paused ? row.paused === 'paused' : !row.recovery) return;
    }
    await sleep(100);
  }
  throw new Error(
    `restored cluster in ${cluster.dataDir} did not finish recovery: see ${cluster.logFile}\n${readFileSync(cluster.logFile, 'utf8')}`,
  );
}

/** Parses `restore --dry-run --output=json`. */
export function planOf(result: RunResult): RestorePlanJson {
  return JSON.parse(result.stdout) as RestorePlanJson;
}

/** Every entry under a directory with its type, mode, size, mtime and content hash (or link destination). */
export function snapshot(root: string): Map<string, string> {
  const result = new Map<string, string>();
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = `${prefix}${name}`;
      const stats = lstatSync(path);
      if (stats.isSymbolicLink()) result.set(rel, `link ${readlinkSync(path)}`);
      else if (stats.isDirectory()) {
        result.set(rel, `dir ${(stats.mode & 0o7777).toString(8)}`);
        walk(path, `${rel}/`);
      } else {
        const hash = createHash('sha1').update(readFileSync(path)).digest('hex');
        result.set(rel, `file ${(stats.mode & 0o7777).toString(8)} ${stats.size} ${Math.floor(stats.mtimeMs / 1000)} ${hash}`);
      }
    }
  };
  walk(root, '');
  return result;
}

/** `restore file <path> (...)` lines of a restore run at log-level detail: what it fetched. */
export function fetchedFiles(output: string): string[] {
  return [...output.matchAll(/restore file (\S+) \((?!0B\))[^)]*\) checksum [0-9a-f]{40}/g)].map((match) => match[1]!);
}

/**
 * Switches to a new WAL segment and waits until the one it ends is in the stanza's archive (pushed
 * by archive_command). A record is written first: with nothing written since the last switch (a
 * backup's stop has just made one) pg_switch_wal switches nothing and names the segment still
 * being written, which is never archived.
 */
export async function switchAndArchive(stanza: TestStanza): Promise<string> {
  await stanza.cluster.query("SELECT pg_logical_emit_message(false, 'pgkeep-test', 'switch')");
  const segment = String(await stanza.cluster.value('SELECT pg_walfile_name(pg_switch_wal())'));
  for (let attempt = 0; attempt < 300; attempt++) {
    const archived = await stanza.cluster.value('SELECT last_archived_wal FROM pg_stat_archiver');
    if (archived !== null && String(archived) >= segment) return segment;
    await sleep(100);
  }
  throw new Error(`segment ${segment} was not archived`);
}
