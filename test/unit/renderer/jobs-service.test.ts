import { describe, expect, it } from 'vitest';

import type { LogLine } from '../../../engine/service/api.js';
import { MAX_LOG_LINES, mergeLog } from '../../../renderer/src/lib/state/job-log.js';
import { JobsService } from '../../../renderer/src/lib/state/jobs.svelte.js';
import { FakeApi, ok } from './fake-api.js';
import { NOW, job } from './fixtures.js';

const line = (i: number): LogLine => ({ time: NOW + i, level: 'info', message: `line ${i}` });
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => line(from + i));
const progress = (bytesDone: number) => ({
  bytesDone,
  bytesTotal: 100,
  filesDone: bytesDone,
  filesTotal: 100,
  rate: 1,
  eta: null,
});

describe('job log merging', () => {
  it('appends what follows the last known line of an overlapping snapshot', () => {
    expect(mergeLog(lines(0, 5), lines(3, 8))).toEqual(lines(0, 8));
    expect(mergeLog(lines(0, 5), lines(0, 5))).toEqual(lines(0, 5));
    expect(mergeLog([], lines(0, 3))).toEqual(lines(0, 3));
    expect(mergeLog(lines(0, 3), [])).toEqual(lines(0, 3));
  });

  it('appends a whole snapshot that no longer overlaps', () => {
    expect(mergeLog(lines(0, 5), lines(20, 25))).toEqual([...lines(0, 5), ...lines(20, 25)]);
  });

  it('puts older lines in front when the snapshot reaches further back', () => {
    expect(mergeLog(lines(25, 30), lines(0, 31))).toEqual(lines(0, 31));
  });

  it('keeps at most MAX_LOG_LINES, dropping the oldest', () => {
    const merged = mergeLog(lines(0, MAX_LOG_LINES), lines(MAX_LOG_LINES - 1, MAX_LOG_LINES + 10));
    expect(merged).toHaveLength(MAX_LOG_LINES);
    expect(merged.at(-1)).toEqual(line(MAX_LOG_LINES + 9));
    expect(merged[0]).toEqual(line(10));
  });
});

describe('jobs service', () => {
  it('never lets a late snapshot undo an ended job or move progress back', async () => {
    const api = new FakeApi({ listJobs: () => ok([]) });
    const jobs = new JobsService(api);
    const stop = jobs.start();
    api.emit({ type: 'job', job: job({ progress: progress(50), log: lines(0, 2) }) });
    api.emit({ type: 'job', job: job({ progress: progress(30), log: lines(0, 3) }) });
    expect(jobs.get('job-1')?.progress?.bytesDone).toBe(50);
    expect(jobs.get('job-1')?.log).toEqual(lines(0, 3)); // its log lines still count
    api.emit({ type: 'job', job: job({ state: 'succeeded', endedAt: NOW, summary: 'done', log: lines(0, 4) }) });
    api.emit({ type: 'job', job: job({ progress: progress(90) }) });
    expect(jobs.get('job-1')).toMatchObject({ state: 'succeeded', summary: 'done' });
    expect(jobs.get('job-1')?.log).toEqual(lines(0, 4));
    stop();
    expect(api.listenerCount).toBe(0);
  });

  it('knows the running job of each stanza and the newest first', async () => {
    const api = new FakeApi({
      listJobs: () =>
        ok([
          job({ id: 'a', state: 'succeeded', startedAt: NOW - 9000, endedAt: NOW - 8000 }),
          job({ id: 'b', request: { kind: 'check', stanza: 'sales' }, startedAt: NOW - 500 }),
          job({ id: 'c', startedAt: NOW - 100 }),
        ]),
      getJob: ({ id }) =>
        ok(
          job({
            id,
            request: id === 'b' ? { kind: 'check', stanza: 'sales' } : { kind: 'backup', stanza: 'main', type: 'incr' },
            startedAt: id === 'b' ? NOW - 500 : NOW - 100,
          }),
        ),
    });
    const jobs = new JobsService(api);
    await jobs.load();
    expect(jobs.all.map((j) => j.id)).toEqual(['c', 'b', 'a']);
    expect(jobs.running.map((j) => j.id)).toEqual(['c', 'b']);
    expect(jobs.runningFor('sales')?.id).toBe('b');
    expect(jobs.runningFor('main')?.id).toBe('c');
    expect(jobs.latestFor('main')?.id).toBe('c');
    expect(jobs.runningFor('other')).toBeUndefined();
    // Running jobs are fetched whole for their full log.
    expect(api.callsOf('getJob')).toEqual([{ id: 'b' }, { id: 'c' }]);
  });

  it('keeps the error when listJobs fails', async () => {
    const jobs = new JobsService(
      new FakeApi({ listJobs: () => ({ ok: false, code: 101, name: 'Service', message: 'not connected to pgkeep' }) }),
    );
    await jobs.load();
    expect(jobs.loaded).toBe(true);
    expect(jobs.error).toEqual({ code: 101, name: 'Service', message: 'not connected to pgkeep' });
  });
});
