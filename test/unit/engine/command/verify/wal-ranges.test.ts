import { describe, expect, it } from 'vitest';

import { backupWalSegments, formatRange, segmentRuns, walContinuity } from '../../../../../engine/command/verify/wal-ranges.js';

const MiB = 1024 * 1024;
const SIZE_16M = 16 * MiB;

describe('walContinuity', () => {
  it('gives one run per timeline when nothing is missing, whatever the order and repeats', () => {
    const names = [
      '000000010000000000000003',
      '000000010000000000000001',
      '000000010000000000000002',
      '000000010000000000000002',
    ];
    expect(walContinuity(names, SIZE_16M)).toEqual([
      {
        timeline: 1,
        ranges: [{ timeline: 1, start: '000000010000000000000001', stop: '000000010000000000000003' }],
        missing: [],
      },
    ]);
  });

  it('reports each gap between the oldest and newest segment as a missing range with its length', () => {
    const names = [
      '000000010000000000000001',
      '000000010000000000000002',
      '000000010000000000000005',
      '000000010000000000000009',
    ];
    const [timeline] = walContinuity(names, SIZE_16M);
    expect(timeline!.ranges.map(formatRange)).toEqual([
      '000000010000000000000001-000000010000000000000002',
      '000000010000000000000005',
      '000000010000000000000009',
    ]);
    expect(timeline!.missing).toEqual([
      { timeline: 1, start: '000000010000000000000003', stop: '000000010000000000000004', segments: 2 },
      { timeline: 1, start: '000000010000000000000006', stop: '000000010000000000000008', segments: 3 },
    ]);
  });

  it('continues across an xlogid boundary: 256 segments of 16 MiB, 4096 of 1 MiB, 4 of 1 GiB', () => {
    expect(walContinuity(['0000000100000000000000FF', '000000010000000100000000'], SIZE_16M)[0]!.missing).toEqual([]);
    // With 16 MiB segments 0x100 is not a segment number: the name does not parse
    expect(() => walContinuity(['000000010000000000000100'], SIZE_16M)).toThrow(
      /not a WAL segment name for 16777216-byte segments/,
    );
    expect(walContinuity(['000000010000000000000FFF', '000000010000000100000000'], MiB)[0]!.missing).toEqual([]);
    expect(walContinuity(['000000010000000000000003', '000000010000000100000000'], 1024 * MiB)[0]!.missing).toEqual([]);
    // 0FF then 100 00000000 with 1 MiB segments: 0x100 to 0xFFF are missing
    expect(walContinuity(['0000000100000000000000FF', '000000010000000100000000'], MiB)[0]!.missing).toEqual([
      { timeline: 1, start: '000000010000000000000100', stop: '000000010000000000000FFF', segments: 0xf00 },
    ]);
  });

  it('judges each timeline on its own, in timeline order', () => {
    const names = [
      '000000020000000000000006',
      '000000010000000000000004',
      '000000010000000000000006',
      '000000020000000000000007',
    ];
    const result = walContinuity(names, SIZE_16M);
    expect(result.map((timeline) => timeline.timeline)).toEqual([1, 2]);
    expect(result[0]!.missing).toEqual([
      { timeline: 1, start: '000000010000000000000005', stop: '000000010000000000000005', segments: 1 },
    ]);
    expect(result[1]!.missing).toEqual([]);
  });

  it('has nothing to say about no segments', () => {
    expect(walContinuity([], SIZE_16M)).toEqual([]);
  });
});

describe('backupWalSegments', () => {
  it('lists every segment from archive start to archive stop, both included', () => {
    expect(backupWalSegments('000000010000000000000002', '000000010000000000000002', SIZE_16M)).toEqual([
      '000000010000000000000002',
    ]);
    expect(backupWalSegments('0000000100000000000000FE', '000000010000000100000001', SIZE_16M)).toEqual([
      '0000000100000000000000FE',
      '0000000100000000000000FF',
      '000000010000000100000000',
      '000000010000000100000001',
    ]);
  });

  it('takes the start on its own timeline and the rest on the stop timeline should they differ', () => {
    expect(backupWalSegments('000000010000000000000005', '000000020000000000000006', SIZE_16M)).toEqual([
      '000000010000000000000005',
      '000000020000000000000006',
    ]);
  });

  it('refuses a stop before the start', () => {
    expect(() => backupWalSegments('000000010000000000000005', '000000010000000000000004', SIZE_16M)).toThrow(
      /archive stop '000000010000000000000004' comes before its archive start/,
    );
  });
});

describe('segmentRuns', () => {
  it('folds names into runs for short messages', () => {
    const runs = segmentRuns(['000000010000000000000002', '000000010000000000000003', '000000010000000000000007'], SIZE_16M);
    expect(runs.map(formatRange)).toEqual(['000000010000000000000002-000000010000000000000003', '000000010000000000000007']);
  });
});
