import { DecryptFilter, EncryptFilter } from './cipher.js';
import type { CompressType } from './compress-type.js';
import { compressFilter, decompressFilter } from './compress.js';
import type { Filter } from './filter.js';
import { Sha1Filter } from './sha1.js';
import { SizeFilter } from './size.js';

/**
 * A filter described as plain data: what a job message to a worker process carries, so the worker
 * builds and runs the very same filters (createFilter) and sends the results back as JSON.
 */
export type FilterSpec =
  | { readonly type: 'size'; readonly resultName: string }
  | { readonly type: 'sha1'; readonly resultName: string }
  | { readonly type: 'compress'; readonly compressType: CompressType; readonly level?: number }
  | { readonly type: 'decompress'; readonly compressType: CompressType; readonly file?: string }
  /** `pass` is a passphrase: job messages carry it to workers, nothing logs it. */
  | { readonly type: 'encrypt'; readonly pass: string }
  | { readonly type: 'decrypt'; readonly pass: string; readonly file?: string };

export function createFilter(spec: FilterSpec): Filter {
  switch (spec.type) {
    case 'size':
      return new SizeFilter(spec.resultName);
    case 'sha1':
      return new Sha1Filter(spec.resultName);
    case 'compress':
      return compressFilter(spec.compressType, spec.level);
    case 'decompress':
      return decompressFilter(spec.compressType, spec.file);
    case 'encrypt':
      return new EncryptFilter(spec.pass);
    case 'decrypt':
      return new DecryptFilter(spec.pass, spec.file);
  }
}
