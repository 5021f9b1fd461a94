/** Constants of the LZ4 frame format (lz4's doc/lz4_Frame_format.md). */

export const LZ4_FRAME_MAGIC = 0x184d2204;
/** Skippable frames have magics 0x184D2A50 to 0x184D2A5F. */
export const LZ4_SKIPPABLE_MAGIC = 0x184d2a50;
export const LZ4_SKIPPABLE_MASK = 0xfffffff0;
/** The legacy format of `lz4 -l`, which pgBackRest never writes. */
export const LZ4_LEGACY_MAGIC = 0x184c2102;

/** Block maximum size by the BD byte's id (4 to 7). */
export const LZ4_BLOCK_MAX_SIZE: Readonly<Record<number, number>> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};
