/** Streaming filters: size, SHA-1, compression (see pipeline.ts for the one-call copies). */
export { Filter, type FilterResult } from './filter.js';
export { SizeFilter } from './size.js';
export { Sha1Filter } from './sha1.js';
export { createFilter, type FilterSpec } from './filter-spec.js';
export { compressFilter, decompressFilter, IdentityFilter } from './compress.js';
export {
  compressExtension,
  compressLevel,
  compressLevels,
  compressTypeFromExtension,
  compressTypes,
  isCompressType,
  isWritableCompressType,
  stripCompressExtension,
  type CompressType,
  type WritableCompressType,
} from './compress-type.js';
export {
  copyFromRepo,
  copyToRepo,
  repoReadFilters,
  repoWriteFilters,
  runPipeline,
  type PipelineResults,
  type PipelineSink,
  type PipelineSource,
  type RepoReadResult,
  type RepoWriteOptions,
  type RepoWriteResult,
} from './pipeline.js';
export { Lz4FrameDecoder } from './lz4-frame-decoder.js';
export { Xxh32, xxh32 } from './xxh32.js';
