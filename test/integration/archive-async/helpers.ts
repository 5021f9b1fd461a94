import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { pgkeepBin, TestStanza, type StanzaOptions } from '../../harness/stanza.js';
import { tempDir } from '../../harness/temp-dir.js';

/**
 * The shell entry in the staged CLI, where the build puts it beside cli.js
 * (dist/engine/archive-async/pgkeep-fast.sh); copied there when the build did not.
 */
export function fastEntry(): string {
  const target = join(dirname(pgkeepBin()), 'dist', 'engine', 'archive-async', 'pgkeep-fast.sh');
  if (!existsSync(target)) {
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(import.meta.dirname, '..', '..', '..', 'engine', 'archive-async', 'pgkeep-fast.sh'), target);
    chmodSync(target, 0o755);
  }
  return target;
}

export interface AsyncStanza {
  readonly stanza: TestStanza;
  /** Where archive_command copied each file PostgreSQL handed it, before archiving it. */
  readonly originals: string;
  /** The TMPDIR of PostgreSQL and so of archive_command (the fast path descriptor lives there). */
  readonly tmp: string;
  destroy(): Promise<void>;
}

/**
 * A stanza whose cluster archives asynchronously through the shell entry:
 * `archive_command = 'cp %p <originals>/%f && pgkeep-fast.sh --config=... --stanza=main archive-push %p'`.
 * PostgreSQL gets a TMPDIR of its own, so the fast path descriptors of parallel tests do not mix.
 */
export async function asyncStanza(options: StanzaOptions & { copyOriginals?: boolean } = {}): Promise<AsyncStanza> {
  const originals = tempDir('wal-originals');
  const tmp = tempDir('tmp');
  const stanza = await TestStanza.create({
    ...options,
    archiver: 'none',
    global: { 'archive-async': 'y', 'process-max': 2, 'compress-type': 'lz4', ...options.global },
    start: false,
  });
  const push = `${fastEntry()} --config=${stanza.configPath} --stanza=main archive-push %p`;
  stanza.cluster.configure({
    archive_mode: 'on',
    archive_command: `'${options.copyOriginals === false ? push : `cp %p ${originals}/%f && ${push}`}'`,
  });
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp; // inherited by the postmaster, so by archive_command
  try {
    if (options.start ?? true) await stanza.cluster.start();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  return {
    stanza,
    originals,
    tmp,
    destroy: async () => {
      await stanza.destroy();
    },
  };
}

/** Starts the cluster of an asyncStanza made with start: false, with its TMPDIR. */
export async function startWithTmp(target: AsyncStanza): Promise<void> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = target.tmp;
  try {
    await target.stanza.cluster.start();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

/** Writes a WAL record and switches to a new segment: the one ended is PostgreSQL's to archive; returns its name. */
export async function switchWal(stanza: TestStanza): Promise<string> {
  // A switch with nothing written since the last one ends no segment.
  await stanza.cluster.query("SELECT pg_logical_emit_message(false, 'pgkeep-test', 'x')");
  return String(await stanza.cluster.value('SELECT pg_walfile_name(pg_switch_wal())'));
}

/** Switches to a new segment and waits until PostgreSQL reports it archived; returns its name. */
export async function switchAndWait(stanza: TestStanza, timeoutMs = 60_000): Promise<string> {
  const segment = await switchWal(stanza);
  await waitArchived(stanza, segment, timeoutMs);
  return segment;
}

export async function waitArchived(stanza: TestStanza, segment: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const archived = await stanza.cluster.value('SELECT last_archived_wal FROM pg_stat_archiver');
    if (archived !== null && String(archived) >= segment) return;
    await sleep(50);
  }
  throw new Error(`segment ${segment} was not archived in ${timeoutMs} ms: see ${stanza.cluster.logFile}`);
}

/** Stored segments of the stanza's archive (all archive ids), by segment name. */
export function storedSegments(repoPath: string): Map<string, string> {
  const result = new Map<string, string>();
  const base = join(repoPath, 'archive', 'main');
  if (!existsSync(base)) return result;
  for (const archiveId of readdirSync(base).filter((name) => /^\d+-\d+$/.test(name))) {
    for (const dir of readdirSync(join(base, archiveId)).filter((name) => /^[0-9A-F]{16}$/.test(name))) {
      for (const file of readdirSync(join(base, archiveId, dir))) {
        const match = /^([0-9A-F]{24})-[0-9a-f]{40}(\.\w+)?$/.exec(file);
        if (match !== null) result.set(match[1]!, join(base, archiveId, dir, file));
      }
    }
  }
  return result;
}

/** Files under the archive that are neither stored WAL nor info files: temporary files, leftovers. */
export function strayArchiveFiles(repoPath: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, name.name);
      if (name.isDirectory()) walk(path);
      else if (
        !/^([0-9A-F]{24}(\.partial)?-[0-9a-f]{40}(\.\w+)?|[0-9A-F]{8}\.history|[0-9A-F]{24}\.[0-9A-F]{8}\.backup|archive\.info(\.copy)?)$/.test(
          name.name,
        )
      )
        found.push(path);
    }
  };
  const base = join(repoPath, 'archive');
  if (existsSync(base)) walk(base);
  return found;
}

/** WAL segment names among the originals archive_command copied. */
export function originalSegments(originals: string): string[] {
  return readdirSync(originals)
    .filter((name) => /^[0-9A-F]{24}$/.test(name))
    .sort();
}

export function postgresLog(stanza: TestStanza): string {
  return readFileSync(stanza.cluster.logFile, 'utf8');
}
