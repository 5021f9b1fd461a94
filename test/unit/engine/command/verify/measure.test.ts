import { describe, expect, it } from 'vitest';

import { batchJobs, type MeasureRequest } from '../../../../../engine/command/verify/measure.js';

const MiB = 1024 * 1024;
const request = (key: string, size: number): MeasureRequest => ({
  key,
  size,
  job: { path: `/${key}`, compressType: 'lz4', content: true, size },
});

describe('batchJobs', () => {
  it('gives each large file a job of its own and batches small ones by count and bytes, keeping their order', () => {
    const small = Array.from({ length: 70 }, (_, index) => request(`s${index}`, 1000));
    const jobs = batchJobs([request('big1', 2 * MiB), ...small.slice(0, 3), request('big2', 5 * MiB), ...small.slice(3)]);
    expect(jobs.map((job) => [job.keys.length, job.size])).toEqual([
      [1, 2 * MiB],
      [3, 3000],
      [1, 5 * MiB],
      [64, 64000],
      [3, 3000],
    ]);
    expect(jobs[1]!.key).toBe('s0 and 2 more');
    expect(jobs[2]!.key).toBe('big2');
    expect(jobs[3]!.data.files.map((file) => file.path)).toEqual(small.slice(3, 67).map((item) => `/${item.key}`));
    expect(jobs.every((job) => job.handler === 'verify-file' && job.queue === 'repo')).toBe(true);
  });

  it('closes a batch before it passes 4 MiB', () => {
    const jobs = batchJobs([request('a', MiB), request('b', MiB), request('c', MiB), request('d', MiB), request('e', 1)]);
    expect(jobs.map((job) => job.keys)).toEqual([['a', 'b', 'c', 'd'], ['e']]);
  });
});
