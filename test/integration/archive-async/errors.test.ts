import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, it } from 'vitest';

import { asyncStanza, postgresLog, storedSegments, switchAndWait, switchWal, waitArchived, type AsyncStanza } from './helpers.js';

let target: AsyncStanza | undefined;
afterEach(async () => {
  await target?.destroy();
  target = undefined;
});

async function failedCount(stanza: AsyncStanza['stanza']): Promise<number> {
  return Number(await stanza.cluster.value('SELECT failed_count FROM pg_stat_archiver'));
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met in ${timeoutMs} ms`);
    await sleep(50);
  }
  return Date.now() - started;
}

describe('asynchronous archive-push errors reach PostgreSQL', () => {
  it('a failing push (no stanza in the repository) fails archive_command within archive-timeout, with the message in the server log; then it recovers', async () => {
    target = await asyncStanza({ global: { 'archive-timeout': 10 }, copyOriginals: false });
    const { stanza } = target;
    const segment = await switchWal(stanza);
    const waited = await waitFor(async () => (await failedCount(stanza)) > 0, 20_000);
    expect(waited).toBeLessThan(10_000);
    const text = postgresLog(stanza);
    expect(text).toMatch(/ERROR: \[055\]: [^\n]*archive\.info/);
    expect(text).toContain('archive command failed with exit code 55');
    // the global error of the background process is what every waiting call reported
    expect(readFileSync(join(stanza.root, 'spool', 'archive', 'main', 'out', 'global.error'), 'utf8')).toMatch(/^55\n/);

    await stanza.pgkeep(['stanza-create']);
    await waitArchived(stanza, segment, 120_000); // PostgreSQL's next retry succeeds
    expect(storedSegments(stanza.repoPath).has(segment)).toBe(true);
  });

  it('stopped, archive_command fails with the stop error; started again, archiving resumes', async () => {
    target = await asyncStanza({ copyOriginals: false });
    const { stanza } = target;
    await stanza.pgkeep(['stanza-create']);
    await switchAndWait(stanza); // the fast path is in place
    await stanza.pgkeep(['stop']);
    const segment = await switchWal(stanza);
    await waitFor(async () => (await failedCount(stanza)) > 0, 90_000); // archive-timeout, and PostgreSQL's own pace, on a busy machine
    expect(postgresLog(stanza)).toContain('ERROR: [062]: stop file exists for stanza main');
    expect(storedSegments(stanza.repoPath).has(segment)).toBe(false);
    await stanza.pgkeep(['start']);
    await waitArchived(stanza, segment, 120_000);
    expect(storedSegments(stanza.repoPath).has(segment)).toBe(true);
  });

  it('over archive-push-queue-max, the waiting WAL is dropped with a loud warning instead of filling pg_wal', async () => {
    // No stanza yet: archiving fails and WAL piles up in pg_wal, beyond the 32 MiB allowed.
    target = await asyncStanza({ global: { 'archive-push-queue-max': '32MiB', 'archive-timeout': 5 }, copyOriginals: false });
    const { stanza } = target;
    // Archiving fails first, while the queue is small: WAL that is over the limit before the first
    // attempt would be dropped at once, with no failure to wait for (the test then raced the archiver).
    await switchWal(stanza);
    await waitFor(async () => (await failedCount(stanza)) > 0, 90_000); // archive-timeout, and PostgreSQL's own pace, on a busy machine
    await stanza.cluster.query('CREATE TABLE filler AS SELECT g, md5(g::text) AS v FROM generate_series(1, 800000) g');
    const last = await switchWal(stanza);
    await stanza.pgkeep(['stanza-create']);
    await waitArchived(stanza, last, 120_000);
    const text = postgresLog(stanza);
    expect(text).toMatch(/WARN: dropped WAL file '[0-9A-F]{24}' because archive queue exceeded 32MB/);
    // dropped means not in the archive
    const dropped = [...text.matchAll(/dropped WAL file '([0-9A-F]{24})'/g)].map((match) => match[1]!);
    const stored = storedSegments(stanza.repoPath);
    expect(dropped.length).toBeGreaterThan(2);
    for (const segment of dropped) expect(stored.has(segment), segment).toBe(false);
    const asyncLog = readFileSync(join(stanza.root, 'log', 'main-archive-push-async.log'), 'utf8');
    expect(asyncLog).toMatch(/WARN: dropped WAL file '[0-9A-F]{24}' because archive queue exceeded 32MB/);
  });
});
