import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';

import { toPgkeepError } from '../error/pgkeep-error.js';

/** What a measuring filter reports once its stream has ended: a byte count, a hex digest. */
export type FilterResult = number | string;

/**
 * A filter is a Transform stream of bytes. Filters that measure (size, checksums) pass bytes
 * through unchanged and report a result after the stream ends, under their `resultName`, which
 * runPipeline() collects. Filters are built from plain descriptions (FilterSpec), so a job sent to
 * a worker process runs exactly the same filters, and results are plain JSON values.
 *
 * Subclasses implement process() and finish() and never see Node's callbacks: errors thrown there
 * end the stream with a PgkeepError.
 */
export abstract class Filter extends Transform {
  /** Where runPipeline puts this filter's result; undefined for filters that only transform. */
  readonly resultName: string | undefined;

  constructor(resultName?: string, options?: TransformOptions) {
    super(options);
    this.resultName = resultName;
  }

  /** The filter's result; only meaningful after the stream ended. */
  result(): FilterResult | undefined {
    return undefined;
  }

  /** Transforms one chunk: push() output. May be async (compression in the thread pool). */
  protected abstract process(chunk: Buffer): void | Promise<void>;

  /** Called once after the last chunk: push() what is left, check the input was complete. */
  protected finish(): void | Promise<void> {}

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    settle(() => this.process(chunk), callback);
  }

  override _flush(callback: TransformCallback): void {
    settle(() => this.finish(), callback);
  }
}

/** Runs work, sync or async, and reports its end or its error (as a PgkeepError) to a stream callback. */
function settle(work: () => void | Promise<void>, callback: TransformCallback): void {
  let pending: void | Promise<void>;
  try {
    pending = work();
  } catch (error) {
    callback(toPgkeepError(error));
    return;
  }
  if (pending === undefined) callback();
  else
    pending.then(
      () => callback(),
      (error: unknown) => callback(toPgkeepError(error)),
    );
}
