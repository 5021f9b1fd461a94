import { PgkeepError } from '../error/pgkeep-error.js';

/**
 * Compression types of a pgBackRest repository. pgkeep writes none, gz and lz4; it reads those and
 * also zst and bz2 (through the zstd and bzip2 programs), which pgBackRest may have written. xz is
 * only recognised in names, as in pgBackRest 2.45, which has no codec for it.
 */
export const compressTypes = ['none', 'gz', 'lz4', 'zst', 'bz2', 'xz'] as const;
export type CompressType = (typeof compressTypes)[number];
/** The types pgkeep can write. */
export type WritableCompressType = 'none' | 'gz' | 'lz4';

const extensions: Record<CompressType, string> = { none: '', gz: '.gz', lz4: '.lz4', zst: '.zst', bz2: '.bz2', xz: '.xz' };

export function isCompressType(value: string): value is CompressType {
  return (compressTypes as readonly string[]).includes(value);
}

/** Levels as pgBackRest 2.45 accepts them, and its defaults. */
export const compressLevels: Record<
  WritableCompressType,
  { readonly min: number; readonly max: number; readonly default: number }
> = {
  none: { min: 0, max: 0, default: 0 },
  gz: { min: -1, max: 9, default: 6 },
  lz4: { min: -5, max: 12, default: 1 },
};

/** The file extension of a compression type, with its dot ('' for none). */
export function compressExtension(type: CompressType): string {
  return extensions[type];
}

/** The compression type a file name's extension says ('none' when it has no compression extension). */
export function compressTypeFromExtension(name: string): CompressType {
  for (const type of compressTypes) {
    if (type !== 'none' && name.endsWith(extensions[type])) return type;
  }
  return 'none';
}

/** The alternation pgBackRest uses in its file-name expressions. */
export const COMPRESS_EXTENSION_PATTERN = '(\\.gz|\\.lz4|\\.zst|\\.xz|\\.bz2)';

/** The name without its compression extension. */
export function stripCompressExtension(name: string): string {
  return name.slice(0, name.length - compressExtension(compressTypeFromExtension(name)).length);
}

export function isWritableCompressType(type: CompressType): type is WritableCompressType {
  return type === 'none' || type === 'gz' || type === 'lz4';
}

/** Checks a level against the type's range; undefined gives the type's default. */
export function compressLevel(type: WritableCompressType, level: number | undefined): number {
  const range = compressLevels[type];
  if (level === undefined) return range.default;
  if (!Number.isInteger(level) || level < range.min || level > range.max) {
    throw new PgkeepError('OptionInvalidValue', `compress level ${level} is not valid for compress type ${type}`, {
      hint: `use a level from ${range.min} to ${range.max}`,
    });
  }
  return level;
}
