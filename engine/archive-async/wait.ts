import { watch, type FSWatcher } from 'node:fs';

/** First pause between two looks, then each pause is the sum of the two before it (pgBackRest's wait), up to the cap. */
const FIRST_PAUSE_MS = 5;
const MAX_PAUSE_MS = 250;

/**
 * A wait for something to appear in some directories: `pause()` returns after a growing pause
 * (Fibonacci, as pgBackRest's waitMore, but from 5 ms instead of 100 ms: the answer usually comes
 * within a few milliseconds), or as soon as an entry of a watched directory changes (inotify), or
 * when the time is up. Watching is an optimisation: where it is not possible the pauses alone do
 * the job.
 */
export class DirectoryWait {
  private started = Date.now();
  private readonly watchers: FSWatcher[] = [];
  private wake: (() => void) | undefined;
  private changed = false;
  private pauseMs = FIRST_PAUSE_MS;
  private previousMs = 0;

  constructor(
    private timeoutMs: number,
    directories: readonly string[] = [],
  ) {
    for (const directory of directories) {
      try {
        const watcher = watch(directory, { persistent: false }, () => this.notify());
        // A watcher that fails later (the directory removed) just stops waking us.
        watcher.on('error', () => watcher.close());
        this.watchers.push(watcher);
      } catch {
        // not watchable (missing, too many watches): the pauses alone will do
      }
    }
  }

  /** Milliseconds left. */
  get remainingMs(): number {
    return Math.max(0, this.timeoutMs - (Date.now() - this.started));
  }

  get elapsedMs(): number {
    return Date.now() - this.started;
  }

  /** Starts a new wait of `timeoutMs` with the same watches: the pauses start short again. */
  restart(timeoutMs: number): void {
    this.started = Date.now();
    this.timeoutMs = timeoutMs;
    this.pauseMs = FIRST_PAUSE_MS;
    this.previousMs = 0;
  }

  /** Waits for a change or the next pause; false when the time is up (nothing waited). */
  async pause(): Promise<boolean> {
    const remaining = this.remainingMs;
    if (remaining <= 0) return false;
    if (!this.changed) {
      const delay = Math.min(this.pauseMs, remaining);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        this.wake = done;
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
      this.wake = undefined;
      [this.previousMs, this.pauseMs] = [this.pauseMs, Math.min(MAX_PAUSE_MS, this.pauseMs + this.previousMs)];
    }
    this.changed = false;
    return true;
  }

  close(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
    this.wake?.();
  }

  private notify(): void {
    this.changed = true;
    this.wake?.();
  }
}
