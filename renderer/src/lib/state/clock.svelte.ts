/** "Now" for ages and ETAs, ticking slowly so that "3 min ago" moves without re-rendering every second. */
export class Clock {
  now = $state(Date.now());

  start(intervalMs = 15_000): () => void {
    const timer = setInterval(() => (this.now = Date.now()), intervalMs);
    return () => clearInterval(timer);
  }
}
