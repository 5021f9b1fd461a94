/**
 * Starts the writeback of a file while it is still being written: given how far the file has got,
 * it syncs the file once every `step` bytes, one sync at a time. The kernel would otherwise leave
 * the new pages dirty until gigabytes of them pile up (or 30 s pass), and the sync at the end of
 * the copy would then wait for all of it. A failed sync is not reported here: the final sync,
 * which the caller awaits, fails the same way.
 */
export class Writeback {
  private running: Promise<void> | undefined;
  private synced = 0;
  private stopped = false;

  constructor(
    private readonly file: { datasync(): Promise<void> },
    private readonly step: number,
  ) {}

  /** The file has `bytes` so far. */
  grew(bytes: number): void {
    if (this.stopped || this.running !== undefined || bytes - this.synced < this.step) return;
    this.synced = bytes;
    const done = () => {
      this.running = undefined;
    };
    this.running = this.file.datasync().then(done, done);
  }

  /** The file is complete (its own final sync follows): starts no more syncs; resolves once none started here runs. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
