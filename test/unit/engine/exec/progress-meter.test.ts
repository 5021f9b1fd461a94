import { describe, expect, it } from 'vitest';

import { ProgressMeter } from '../../../../engine/exec/progress-meter.js';

describe('ProgressMeter', () => {
  it('counts finished jobs in full and running jobs by what they reported', () => {
    let now = 0;
    const meter = new ProgressMeter(1000, { now: () => now });
    expect(meter.snapshot()).toEqual({ doneBytes: 0, totalBytes: 1000, percent: 0, bytesPerSecond: 0, etaSeconds: undefined });
    now = 1000;
    meter.progress('a', 100);
    meter.progress('b', 50);
    expect(meter.doneBytes).toBe(150);
    now = 2000;
    meter.done('a', 400);
    const snapshot = meter.snapshot();
    expect(snapshot.doneBytes).toBe(450);
    expect(snapshot.percent).toBe(45);
    expect(snapshot.bytesPerSecond).toBe(225);
    expect(snapshot.etaSeconds).toBeCloseTo(550 / 225);
    // a retry starts again at 0
    meter.progress('b', 0);
    expect(meter.doneBytes).toBe(400);
  });

  it('measures the rate over the recent window only', () => {
    let now = 0;
    const meter = new ProgressMeter(10_000, { now: () => now, windowMs: 1000 });
    // fast at first, then slow
    for (let second = 1; second <= 5; second++) {
      now = second * 1000;
      meter.done(`fast${second}`, 1000);
    }
    for (let tick = 1; tick <= 20; tick++) {
      now = 5000 + tick * 100;
      meter.done(`slow${tick}`, 10);
    }
    const snapshot = meter.snapshot();
    expect(snapshot.doneBytes).toBe(5200);
    expect(snapshot.bytesPerSecond).toBeCloseTo(100, 0);
  });

  it('keeps few samples however many reports come', () => {
    let now = 0;
    const meter = new ProgressMeter(1e9, { now: () => now, windowMs: 10_000 });
    for (let report = 0; report < 100_000; report++) {
      now = report / 10;
      meter.progress(`f${report % 8}`, report);
    }
    expect((meter as unknown as { samples: unknown[] }).samples.length).toBeLessThanOrEqual(102);
    expect(meter.snapshot().bytesPerSecond).toBeGreaterThan(0);
  });

  it('is complete for an empty run and never above 100%', () => {
    expect(new ProgressMeter(0).snapshot().percent).toBe(100);
    let now = 0;
    const meter = new ProgressMeter(10, { now: () => now });
    now = 1000;
    meter.done('grew', 20);
    expect(meter.snapshot()).toMatchObject({ percent: 100, etaSeconds: 0, bytesPerSecond: 20 });
  });
});
