import { describe, expect, it } from 'vitest';

import { formatAge, formatBytes, formatCount, formatDuration, formatRate, percent } from '../../../renderer/src/lib/format.js';
import { layoutTimeline } from '../../../renderer/src/lib/timeline.js';
import { NOW_S, backup } from './fixtures.js';

describe('formatting', () => {
  it('formats sizes in 1024-based units like pgbackrest info', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(320_000_000)).toBe('305 MB');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.5 GB');
    expect(formatBytes(-1)).toBe('—');
    expect(formatRate(50 * 1024 ** 2)).toBe('50.0 MB/s');
  });

  it('formats durations and ages', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(95)).toBe('1 min 35 s');
    expect(formatDuration(120)).toBe('2 min');
    expect(formatDuration(2 * 3600 + 300)).toBe('2 h 5 min');
    expect(formatDuration(3 * 86_400 + 4 * 3600)).toBe('3 d 4 h');
    expect(formatAge(30)).toBe('just now');
    expect(formatAge(12 * 60)).toBe('12 min ago');
    expect(formatAge(47 * 3600)).toBe('47 h ago');
    expect(formatAge(9 * 86_400)).toBe('9 d ago');
  });

  it('formats counts and percent', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(percent(1, 3)).toBe(33);
    expect(percent(5, 0)).toBe(0);
    expect(percent(11, 10)).toBe(100);
  });
});

describe('timeline layout', () => {
  it('places backups by stop time between the oldest thing shown and now, with the window as a band', () => {
    const full = backup('full', 10 * 86_400);
    const incr = backup('incr', 86_400, full);
    const timeline = layoutTimeline([full, incr], { from: full.stopTime, to: NOW_S }, NOW_S, 600);
    const [a, b] = timeline.marks;
    expect(a!.x).toBeGreaterThan(6);
    expect(b!.x).toBeGreaterThan(a!.x);
    expect(b!.x).toBeLessThan(594);
    expect(timeline.band!.x).toBeCloseTo(a!.x, 6);
    expect(timeline.band!.x + timeline.band!.width).toBeCloseTo(594, 6);
  });

  it('shows at least a day, so one fresh backup does not sit at the left edge', () => {
    const timeline = layoutTimeline([backup('full', 600)], null, NOW_S, 600);
    expect(timeline.to - timeline.from).toBe(86_400);
    expect(timeline.marks[0]!.x).toBeGreaterThan(580);
    expect(timeline.band).toBeNull();
  });
});
