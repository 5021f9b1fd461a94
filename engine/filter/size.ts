import { Filter } from './filter.js';

/** Counts the bytes that pass through; the result is the count. */
export class SizeFilter extends Filter {
  private size = 0;

  constructor(resultName = 'size') {
    super(resultName);
  }

  override result(): number {
    return this.size;
  }

  protected process(chunk: Buffer): void {
    this.size += chunk.length;
    this.push(chunk);
  }
}
