import type { JobHandler } from '../../exec/job.js';
import { toPgkeepError } from '../../error/pgkeep-error.js';
import type { CompressType } from '../../filter/compress-type.js';
import { Filter } from '../../filter/filter.js';
import type { FilterSpec } from '../../filter/filter-spec.js';
import { runPipeline, type PipelineSink } from '../../filter/pipeline.js';
import { WAL_HEADER_READ_SIZE } from '../../postgres/wal.js';
import { PosixStorage } from '../../storage/posix/posix-storage.js';
import { isSmallJob, measureSmallFile, readSmallFile, walSegmentSize } from './small-file.js';

/** One repository file to measure, as the verify command sends it to a worker. */
export interface VerifyFileJob {
  /** Absolute path of the file (a bundle for bundled backup files). */
  readonly path: string;
  /** Bundled files: where the file's bytes are in the bundle, and how many. */
  readonly offset?: number | undefined;
  readonly limit?: number | undefined;
  /** Compression of the stored bytes (from the name's extension or the backup's option). */
  readonly compressType: CompressType;
  /** Decompress and measure the content too (false: only the stored bytes, e.g. block incremental). */
  readonly content: boolean;
  /** Bytes expected to be stored (manifest or listing): small files are read in one call (small-file.ts). */
  readonly size: number;
  /** WAL: read the segment size from the long header of the content. */
  readonly walHeader?: boolean | undefined;
  /** The passphrase of the stored bytes in an encrypted repository (a manifest's, or archive.info's for WAL). */
  readonly cipherPass?: string | undefined;
}

/**
 * What was measured; the verify command compares it with what the manifest or the WAL file name
 * records. Problems with a file are results, never thrown errors, so one bad file does not fail the
 * run and every file gets its verdict.
 */
export type VerifyFileResult =
  /** The file (or the bundle) does not exist. */
  | { readonly status: 'missing' }
  | {
      readonly status: 'read';
      /** Size and SHA-1 of the stored bytes (manifest `repo-size` and `rck`). */
      readonly repoSize: number;
      readonly repoChecksum: string;
      /** Size and SHA-1 of the content (manifest `size` and `checksum`); absent when the job did not ask for the content. */
      readonly size?: number;
      readonly checksum?: string;
      /** WAL: `xlp_seg_size` of the segment's first page, when it has a valid long header. */
      readonly segmentSize?: number;
    }
  /** The file could not be read or decompressed; the stored bytes are measured when they could be read. */
  | { readonly status: 'failed'; readonly error: string; readonly repoSize?: number; readonly repoChecksum?: string };

const storage = new PosixStorage({ basePath: '/' });

/** A job of the verify command: one large file, or a batch of small ones (one job each would cost more than reading them). */
export interface VerifyFilesJob {
  readonly files: readonly VerifyFileJob[];
}

/** Measures the job's files one after the other; the results in the same order. */
export const handler: JobHandler<VerifyFilesJob, VerifyFileResult[]> = async (job, context) => {
  const results: VerifyFileResult[] = [];
  let done = 0;
  for (const file of job.files) {
    results.push(await measureFile(file, (bytes) => context.progress(done + bytes)));
    done += file.size;
  }
  return results;
};

/**
 * Measures one repository file in one pass: size and SHA-1 of the stored bytes, then of the
 * decompressed content (both, so storage damage and a wrong stored file are told apart). When
 * decompression fails, the stored bytes are measured again on their own, so the verdict can still
 * say "checksum invalid" (as pgBackRest, which only checks `rck`, does) rather than only "other".
 */
export async function measureFile(job: VerifyFileJob, progress: (bytes: number) => void): Promise<VerifyFileResult> {
  if (isSmallJob(job)) {
    let data;
    try {
      data = await readSmallFile(job);
    } catch (caught) {
      return { status: 'failed', error: toPgkeepError(caught).message };
    }
    if (data === undefined) return { status: 'missing' };
    // A file larger than announced is streamed like any large file
    if (data.length <= job.size) {
      progress(data.length);
      return measureSmallFile(job, data);
    }
  }
  const measureContent = job.content && (job.compressType !== 'none' || job.cipherPass !== undefined);
  const filters: (Filter | FilterSpec)[] = [
    new Progress(progress),
    { type: 'size', resultName: 'repoSize' },
    { type: 'sha1', resultName: 'repoChecksum' },
  ];
  if (measureContent) {
    if (job.cipherPass !== undefined) filters.push({ type: 'decrypt', pass: job.cipherPass, file: job.path });
    if (job.compressType !== 'none') filters.push({ type: 'decompress', compressType: job.compressType, file: job.path });
    filters.push({ type: 'size', resultName: 'size' }, { type: 'sha1', resultName: 'checksum' });
  }
  const header = job.walHeader === true ? new HeaderCapture() : undefined;
  try {
    const source = await open(job, true);
    if (source === undefined) return { status: 'missing' };
    const results = await runPipeline(source, filters, header?.sink);
    const repoSize = results['repoSize'] as number;
    const repoChecksum = results['repoChecksum'] as string;
    const content = measureContent
      ? { size: results['size'] as number, checksum: results['checksum'] as string }
      : job.content
        ? { size: repoSize, checksum: repoChecksum }
        : {};
    return { status: 'read', repoSize, repoChecksum, ...content, ...header?.segmentSize() };
  } catch (caught) {
    const error = toPgkeepError(caught).message;
    if (!measureContent) return { status: 'failed', error };
    // Decompression failed: the stored bytes alone
    try {
      const results = await runPipeline((await open(job, false))!, [
        { type: 'size', resultName: 'repoSize' },
        { type: 'sha1', resultName: 'repoChecksum' },
      ]);
      return {
        status: 'failed',
        error,
        repoSize: results['repoSize'] as number,
        repoChecksum: results['repoChecksum'] as string,
      };
    } catch {
      return { status: 'failed', error };
    }
  }
}

function open(job: VerifyFileJob, ignoreMissing: boolean) {
  return storage.read(job.path, {
    ignoreMissing,
    ...(job.offset === undefined ? {} : { offset: job.offset }),
    ...(job.limit === undefined ? {} : { limit: job.limit }),
  });
}

/** Keeps the first bytes of the content for the WAL header; the rest is only counted. */
class HeaderCapture {
  private head = Buffer.alloc(0);

  readonly sink: PipelineSink = async (data) => {
    for await (const chunk of data) {
      if (this.head.length < WAL_HEADER_READ_SIZE)
        this.head = Buffer.concat([this.head, chunk.subarray(0, WAL_HEADER_READ_SIZE)]);
    }
  };

  segmentSize(): { segmentSize?: number } {
    return walSegmentSize(this.head);
  }
}

/** Reports bytes read so far to the pool (the desktop app's progress bar). */
class Progress extends Filter {
  private done = 0;

  constructor(private readonly report: (bytes: number) => void) {
    super();
  }

  protected process(chunk: Buffer): void {
    this.done += chunk.length;
    this.report(this.done);
    this.push(chunk);
  }
}
