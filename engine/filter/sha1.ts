import { createHash, type Hash } from 'node:crypto';

import { Filter } from './filter.js';

/** SHA-1 of the bytes that pass through, as lowercase hex (what manifests store as checksum and rck). */
export class Sha1Filter extends Filter {
  private readonly hash: Hash = createHash('sha1');
  private digest: string | undefined;

  constructor(resultName = 'sha1') {
    super(resultName);
  }

  /** The hex digest, once the stream has ended. */
  override result(): string | undefined {
    return this.digest;
  }

  protected process(chunk: Buffer): void {
    this.hash.update(chunk);
    this.push(chunk);
  }

  protected override finish(): void {
    this.digest = this.hash.digest('hex');
  }
}
