import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from '../../harness/temp-dir.js';
import { asyncStanza, originalSegments, storedSegments, strayArchiveFiles, switchAndWait, type AsyncStanza } from './helpers.js';

const sha1 = (path: string) => createHash('sha1').update(readFileSync(path)).digest('hex');

/** Paths of temporary files under the archive: a push in progress. */
function pushesInProgress(repoPath: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.includes('.pgkeep.tmp.')) found.push(join(dir, entry.name));
    }
  };
  walk(join(repoPath, 'archive', 'main'));
  return found;
}

function lockHolder(lockPath: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(lockPath, 'main-archive.lock'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/**
 * The background process is killed (SIGKILL) in the middle of pushes, several times, while
 * PostgreSQL writes WAL: no segment is lost, none is left half-written in the repository, and
 * archiving goes on by itself (the next call starts a new background process).
 */
describe('a background process killed mid-push', () => {
  let target: AsyncStanza;
  const killed: number[] = [];
  let waitedMs = 0;

  beforeAll(async () => {
    // gz is slow enough to catch pushes in progress
    target = await asyncStanza({ global: { 'compress-type': 'gz' }, cluster: { settings: { max_wal_size: "'64MB'" } } });
    await target.stanza.pgkeep(['stanza-create']);
    const load = target.stanza.cluster.pgbench(['-i', '-s', '12', '-q']);
    let loading = true;
    void load.finally(() => (loading = false));
    // Kill a pushing background process, let archiving go on for two segments, kill again.
    let archivedAtKill = -1;
    while (loading && killed.length < 3) {
      const archived = Number(await target.stanza.cluster.value('SELECT archived_count FROM pg_stat_archiver'));
      const pid = lockHolder(target.stanza.lockPath);
      if (archived >= archivedAtKill + 2 && pid !== undefined && pushesInProgress(target.stanza.repoPath).length > 0) {
        try {
          process.kill(pid, 'SIGKILL');
          killed.push(pid);
          archivedAtKill = archived;
        } catch {
          // it ended just now
        }
      }
      await sleep(5);
    }
    await load;
    const started = Date.now();
    await switchAndWait(target.stanza, 120_000);
    waitedMs = Date.now() - started;
  });
  afterAll(async () => target?.destroy());

  it('was killed while pushing, and archiving carried on without PostgreSQL seeing a failure', async () => {
    expect(killed.length).toBeGreaterThanOrEqual(1);
    const archiver = (
      await target.stanza.cluster.query<{ failed_count: string }>('SELECT failed_count FROM pg_stat_archiver')
    )[0]!;
    expect(Number(archiver.failed_count)).toBe(0);
    expect(waitedMs).toBeLessThan(30_000);
  });

  it('lost no segment: everything PostgreSQL handed over is in the repository, with its content', async () => {
    const stored = storedSegments(target.stanza.repoPath);
    const segments = originalSegments(target.originals);
    expect(segments.length).toBeGreaterThan(5);
    expect(segments.filter((segment) => !stored.has(segment))).toEqual([]);
    const out = tempDir('get');
    for (const segment of segments) {
      await target.stanza.pgbackrest(['archive-get', segment, join(out, segment)]);
      expect(sha1(join(out, segment)), segment).toBe(sha1(join(target.originals, segment)));
    }
  });

  it('left nothing half-written: no temporary file, and pgbackrest verify finds every file valid', async () => {
    expect(strayArchiveFiles(target.stanza.repoPath)).toEqual([]);
    const verify = await target.stanza.pgbackrest(['--output=text', '--verbose', 'verify']);
    expect(verify.stdout).toContain('missing: 0, checksum invalid: 0, size invalid: 0, other: 0');
  });
});
