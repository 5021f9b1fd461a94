/**
 * Decoding of one LZ4 block (the raw block format: sequences of token, literals, offset, match
 * length). Spec: lz4's doc/lz4_Block_format.md.
 *
 * This is the restore hot loop, so it avoids allocations and calls per byte: short copies are
 * byte loops (cheaper than a native call), long literal runs use set(), long matches copyWithin(),
 * and overlapping matches (offset < length, frequent in PostgreSQL pages: runs of zeros and
 * repeated tuples) copy the period and then double it, so a 4000-byte run of one 8-byte pattern
 * costs 9 copyWithin calls instead of 4000 byte moves.
 */

/** Copies shorter than this are byte loops. Measured: 16-32 is the sweet spot in V8. */
const SHORT_COPY = 24;

/**
 * Decodes the block src[srcStart, srcEnd) into dst starting at dstStart, writing no further than
 * dstLimit. Matches may reach back to windowStart (earlier bytes of dst: the previous blocks of a
 * linked-block frame). Returns the end of the decoded bytes, or -1 when the block is malformed
 * (truncated, an offset before the window, or output past dstLimit).
 */
export function decodeBlock(
  src: Uint8Array,
  srcStart: number,
  srcEnd: number,
  dst: Uint8Array,
  dstStart: number,
  dstLimit: number,
  windowStart: number,
): number {
  let s = srcStart;
  let d = dstStart;
  for (;;) {
    if (s >= srcEnd) return -1;
    const token = src[s++]!;

    let literals = token >>> 4;
    if (literals === 15) {
      let more: number;
      do {
        if (s >= srcEnd) return -1;
        more = src[s++]!;
        literals += more;
      } while (more === 255);
    }
    if (literals > 0) {
      if (s + literals > srcEnd || d + literals > dstLimit) return -1;
      if (literals < SHORT_COPY) {
        const end = s + literals;
        while (s < end) dst[d++] = src[s++]!;
      } else {
        dst.set(src.subarray(s, s + literals), d);
        s += literals;
        d += literals;
      }
    }
    // The last sequence of a block has literals only.
    if (s === srcEnd) return d;

    if (s + 2 > srcEnd) return -1;
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    let from = d - offset;
    if (offset === 0 || from < windowStart) return -1;

    let length = token & 15;
    if (length === 15) {
      let more: number;
      do {
        if (s >= srcEnd) return -1;
        more = src[s++]!;
        length += more;
      } while (more === 255);
    }
    length += 4;
    const end = d + length;
    if (end > dstLimit) return -1;

    if (length < SHORT_COPY) {
      // Byte by byte is also right for overlapping matches: each byte read was written before.
      while (d < end) dst[d++] = dst[from++]!;
    } else if (offset >= length) {
      dst.copyWithin(d, from, from + length);
      d = end;
    } else if (offset === 1) {
      dst.fill(dst[from]!, d, end);
      d = end;
    } else {
      // Overlapping: [from, d) is one period; after each copy the periodic region doubles.
      while (d < end) {
        const chunk = Math.min(d - from, end - d);
        dst.copyWithin(d, from, from + chunk);
        d += chunk;
      }
    }
  }
}
