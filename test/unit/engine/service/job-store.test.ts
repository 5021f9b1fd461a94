import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { Job } from '../../../../engine/service/api.js';
import { JobStore } from '../../../../engine/service/job-store.js';

const job = (id: string, state: Job['state'], startedAt: number): Job => ({
  id,
  request: { kind: 'backup', stanza: 'main', type: 'full' },
  state,
  startedAt,
  endedAt: state === 'running' ? null : startedAt + 1,
  progress: null,
  summary: null,
  backupLabel: null,
  error: null,
  log: [{ time: startedAt, level: 'info', message: 'started' }],
});

describe('JobStore', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const store = () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgkeep-jobs-'));
    dirs.push(dir);
    return { path: join(dir, 'state', 'jobs.json'), store: new JobStore(join(dir, 'state', 'jobs.json')) };
  };

  it('keeps the history across a restart; a job left running is recorded as failed', async () => {
    const { path, store: jobs } = store();
    expect(await jobs.load()).toEqual([]);
    await jobs.save([job('b', 'succeeded', 2), job('a', 'running', 1)]);
    expect(JSON.parse(readFileSync(path, 'utf8')).map((entry: Job) => entry.id)).toEqual(['a', 'b']);
    const loaded = await new JobStore(path).load();
    expect(loaded.map((entry) => [entry.id, entry.state])).toEqual([
      ['a', 'failed'],
      ['b', 'succeeded'],
    ]);
    expect(loaded[0]!.error).toMatchObject({ name: 'Term', message: 'the app stopped while this job was running' });
  });

  it('starts empty, with a warning, from an unreadable history', async () => {
    const { path, store: jobs } = store();
    await jobs.save([]);
    writeFileSync(path, '{not json');
    expect(await jobs.load()).toEqual([]);
  });

  it('keeps the newest 200 jobs', async () => {
    const { store: jobs, path } = store();
    await jobs.save(Array.from({ length: 250 }, (_, index) => job(String(index), 'succeeded', index)));
    const kept = JSON.parse(readFileSync(path, 'utf8')) as Job[];
    expect(kept).toHaveLength(200);
    expect(kept[0]!.id).toBe('50');
  });
});
