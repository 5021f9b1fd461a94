import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { PgkeepError } from '../error/pgkeep-error.js';
import type { CompressType } from './compress-type.js';
import { Filter, type FilterResult } from './filter.js';
import { createFilter, type FilterSpec } from './filter-spec.js';

/** Where bytes come from: a stream, any async iterable of chunks, or one buffer. */
export type PipelineSource = Readable | AsyncIterable<Uint8Array> | Uint8Array;
/**
 * Where bytes go: a Writable, or a function that consumes them, e.g.
 * `(data) => storage.write(path, data)`. No sink: the bytes are only measured (verify, delta).
 */
export type PipelineSink = Writable | ((data: AsyncIterable<Buffer>) => Promise<void>);
/** Each measuring filter's result under its resultName. */
export type PipelineResults = Record<string, FilterResult>;

/**
 * Streams source through the filters into sink, and returns the filters' results once every byte
 * is written. Filters may be given as objects or as specs (see FilterSpec). Memory is bounded by
 * the streams' buffers, whatever the size of the data. The first error anywhere (source, a filter,
 * the sink) ends every stream and rejects, as a PgkeepError when it came from a filter.
 */
export async function runPipeline(
  source: PipelineSource,
  filters: readonly (Filter | FilterSpec)[],
  sink?: PipelineSink,
): Promise<PipelineResults> {
  const built: Filter[] = [];
  try {
    const names = new Set<string>();
    for (const filter of filters) {
      const next = filter instanceof Filter ? filter : createFilter(filter);
      built.push(next);
      if (next.resultName === undefined) continue;
      if (names.has(next.resultName)) throw new PgkeepError('Assert', `two filters report a result named '${next.resultName}'`);
      names.add(next.resultName);
    }
  } catch (error) {
    // Filters built so far may hold resources (a child process): release them.
    for (const filter of built) filter.destroy();
    throw error;
  }
  const input = source instanceof Uint8Array ? Readable.from([source]) : source;
  const output = sink ?? discard();
  // pipeline()'s overloads cannot type a variable-length list of transforms.
  const streams = [input, ...built, output] as unknown as Parameters<typeof pipeline>;
  await pipeline(...streams);
  const results: PipelineResults = {};
  for (const filter of built) {
    const result = filter.result();
    if (filter.resultName !== undefined && result !== undefined) results[filter.resultName] = result;
  }
  return results;
}

function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

/** A file copied into the repository: its plain bytes and the bytes as stored. */
export interface RepoWriteResult {
  /** Bytes read (the manifest's `size`). */
  readonly size: number;
  /** SHA-1 of the bytes read (the manifest's `checksum`). */
  readonly checksum: string;
  /** Bytes stored in the repository (the manifest's `repo-size`). */
  readonly repoSize: number;
  /** SHA-1 of the bytes stored (the manifest's `rck`). */
  readonly repoChecksum: string;
}

/** A file read back from the repository: its plain bytes. */
export interface RepoReadResult {
  readonly size: number;
  readonly checksum: string;
}

export interface RepoWriteOptions {
  readonly compressType: CompressType;
  readonly compressLevel?: number;
  /** The backup's passphrase in an encrypted repository: compressed, then encrypted. */
  readonly cipherPass?: string | undefined;
}

/**
 * The filters of a backup copy: size and SHA-1 of the plain bytes, compression, encryption, size
 * and SHA-1 of the stored bytes. Without either the stored bytes are the plain bytes, so they are
 * measured once. As specs, so a worker process can run them.
 */
export function repoWriteFilters(options: RepoWriteOptions): FilterSpec[] {
  const plain: FilterSpec[] = [
    { type: 'size', resultName: 'size' },
    { type: 'sha1', resultName: 'checksum' },
  ];
  const compress: FilterSpec[] =
    options.compressType === 'none'
      ? []
      : [
          {
            type: 'compress',
            compressType: options.compressType,
            ...(options.compressLevel === undefined ? {} : { level: options.compressLevel }),
          },
        ];
  const encrypt: FilterSpec[] = options.cipherPass === undefined ? [] : [{ type: 'encrypt', pass: options.cipherPass }];
  if (compress.length === 0 && encrypt.length === 0) return plain;
  return [
    ...plain,
    ...compress,
    ...encrypt,
    { type: 'size', resultName: 'repoSize' },
    { type: 'sha1', resultName: 'repoChecksum' },
  ];
}

/**
 * The filters of a restore copy: decryption with `cipherPass` (an encrypted repository),
 * decompression (`file` names the repository file in errors), size and SHA-1.
 */
export function repoReadFilters(compressType: CompressType, file?: string, cipherPass?: string): FilterSpec[] {
  const named = file === undefined ? {} : { file };
  const decrypt: FilterSpec[] = cipherPass === undefined ? [] : [{ type: 'decrypt', pass: cipherPass, ...named }];
  const decompress: FilterSpec[] = compressType === 'none' ? [] : [{ type: 'decompress', compressType, ...named }];
  return [...decrypt, ...decompress, { type: 'size', resultName: 'size' }, { type: 'sha1', resultName: 'checksum' }];
}

/** Backup copy in one call: `const { size, checksum, repoSize, repoChecksum } = await copyToRepo(read, write, { compressType: 'lz4' })`. */
export async function copyToRepo(
  source: PipelineSource,
  sink: PipelineSink | undefined,
  options: RepoWriteOptions,
): Promise<RepoWriteResult> {
  const results = await runPipeline(source, repoWriteFilters(options), sink);
  const size = results['size'] as number;
  const checksum = results['checksum'] as string;
  return {
    size,
    checksum,
    repoSize: (results['repoSize'] as number | undefined) ?? size,
    repoChecksum: (results['repoChecksum'] as string | undefined) ?? checksum,
  };
}

/** Restore copy in one call: `const { size, checksum } = await copyFromRepo(read, write, 'lz4', path)`. */
export async function copyFromRepo(
  source: PipelineSource,
  sink: PipelineSink | undefined,
  compressType: CompressType,
  file?: string,
  cipherPass?: string,
): Promise<RepoReadResult> {
  const results = await runPipeline(source, repoReadFilters(compressType, file, cipherPass), sink);
  return { size: results['size'] as number, checksum: results['checksum'] as string };
}
