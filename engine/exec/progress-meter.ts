export interface ProgressSnapshot {
  readonly doneBytes: number;
  readonly totalBytes: number;
  /** 0 to 100 (100 for an empty run). */
  readonly percent: number;
  /** Over the recent window, so it follows changes in speed without jumping at every report. */
  readonly bytesPerSecond: number;
  /** Undefined until there is a rate to go by. */
  readonly etaSeconds: number | undefined;
}

/**
 * Turns a run's onResult/onProgress calls into total bytes done, rate and time left. Bytes of
 * finished jobs count in full; a running job counts what its attempt reported so far (a retry
 * starts again at 0, which onProgress reports).
 */
export class ProgressMeter {
  private finished = 0;
  private readonly running = new Map<string, number>();
  private readonly samples: { time: number; done: number }[] = [];

  constructor(
    private readonly totalBytes: number,
    private readonly options: { readonly windowMs?: number; readonly now?: () => number } = {},
  ) {
    this.sample();
  }

  /** From onProgress. */
  progress(key: string, bytes: number): void {
    this.running.set(key, bytes);
    this.sample();
  }

  /** From onResult, with the job's size. */
  done(key: string, size: number): void {
    this.running.delete(key);
    this.finished += size;
    this.sample();
  }

  get doneBytes(): number {
    let done = this.finished;
    for (const bytes of this.running.values()) done += bytes;
    return done;
  }

  snapshot(): ProgressSnapshot {
    this.sample();
    const done = this.doneBytes;
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const seconds = (last.time - first.time) / 1000;
    const rate = seconds > 0 ? (last.done - first.done) / seconds : 0;
    return {
      doneBytes: done,
      totalBytes: this.totalBytes,
      percent: this.totalBytes === 0 ? 100 : Math.min(100, (done / this.totalBytes) * 100),
      bytesPerSecond: rate,
      etaSeconds: rate > 0 ? Math.max(0, this.totalBytes - done) / rate : undefined,
    };
  }

  private sample(): void {
    const time = (this.options.now ?? Date.now)();
    const window = this.options.windowMs ?? 10_000;
    const last = this.samples[this.samples.length - 1];
    const beforeLast = this.samples[this.samples.length - 2];
    // At most about a hundred samples per window, however many files report: a burst updates the newest one.
    if (last !== undefined && beforeLast !== undefined && time - beforeLast.time < window / 100) {
      last.time = time;
      last.done = this.doneBytes;
    } else this.samples.push({ time, done: this.doneBytes });
    const windowStart = time - window;
    // Keep one sample at or before the window's start so the rate spans the whole window.
    while (this.samples.length > 2 && this.samples[1]!.time <= windowStart) this.samples.shift();
  }
}
