/**
 * Compression types of a pgBackRest repository and their file extensions (repo-format 4). `xz` is
 * only recognised in names: pgBackRest 2.45 has no codec for it.
 */
export const compressTypes = ['none', 'bz2', 'gz', 'lz4', 'zst', 'xz'] as const;
export type CompressType = (typeof compressTypes)[number];

export function isCompressType(value: string): value is CompressType {
  return (compressTypes as readonly string[]).includes(value);
}

/** `.gz`, `.lz4`, ...; empty for none. */
export function compressExtension(type: CompressType): string {
  return type === 'none' ? '' : `.${type}`;
}

/** The type a stored name's extension says, `none` when it has none of them. */
export function compressTypeFromName(name: string): CompressType {
  for (const type of compressTypes) if (type !== 'none' && name.endsWith(`.${type}`)) return type;
  return 'none';
}

/** The alternation pgBackRest uses in its file-name expressions. */
export const COMPRESS_EXTENSION_PATTERN = '(\\.gz|\\.lz4|\\.zst|\\.xz|\\.bz2)';
