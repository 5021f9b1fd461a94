/**
 * XXH32 (xxHash, 32-bit), streaming. The LZ4 frame format uses it for the header checksum, the
 * block checksums and the content checksum (seed 0). Spec: xxHash's doc/xxhash_spec.md.
 *
 * Written for speed in V8: 32-bit math with Math.imul, lanes read from a Uint32Array view when the
 * data is 4-byte aligned (the common case for Buffers from fs reads and our own allocations) and
 * composed from bytes otherwise. Assumes a little-endian host (x86, arm64), checked once below.
 */

const PRIME1 = 0x9e3779b1 | 0;
const PRIME2 = 0x85ebca77 | 0;
const PRIME3 = 0xc2b2ae3d | 0;
const PRIME4 = 0x27d4eb2f | 0;
const PRIME5 = 0x165667b1 | 0;

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Where unaligned data is copied to be read as words; a multiple of 16. */
const SCRATCH_SIZE = 64 * 1024;
const scratchWords = new Int32Array(SCRATCH_SIZE / 4);
const scratchBytes = new Uint8Array(scratchWords.buffer);

function round(acc: number, lane: number): number {
  acc = (acc + Math.imul(lane, PRIME2)) | 0;
  acc = (acc << 13) | (acc >>> 19);
  return Math.imul(acc, PRIME1);
}

function readLane(data: Uint8Array, at: number): number {
  return data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24);
}

export class Xxh32 {
  /** The four lane accumulators. */
  private readonly acc = new Int32Array(4);
  private readonly seed: number;
  /** Total bytes hashed, kept as a JS number (exact far beyond 2^32; the spec wants it mod 2^32). */
  private total = 0;
  /** Bytes of an incomplete 16-byte stripe carried to the next update. */
  private readonly pending = new Uint8Array(16);
  private pendingLength = 0;

  constructor(seed = 0) {
    this.seed = seed | 0;
    this.acc[0] = this.seed + PRIME1 + PRIME2;
    this.acc[1] = this.seed + PRIME2;
    this.acc[2] = this.seed;
    this.acc[3] = this.seed - PRIME1;
  }

  update(data: Uint8Array, start = 0, end = data.length): this {
    this.total += end - start;
    let at = start;
    if (this.pendingLength > 0) {
      const take = Math.min(16 - this.pendingLength, end - at);
      this.pending.set(data.subarray(at, at + take), this.pendingLength);
      this.pendingLength += take;
      at += take;
      if (this.pendingLength < 16) return this;
      this.stripes(this.pending, 0, 16);
      this.pendingLength = 0;
    }
    const stripeEnd = at + ((end - at) & ~15);
    if (stripeEnd > at) this.stripes(data, at, stripeEnd);
    if (stripeEnd < end) {
      this.pending.set(data.subarray(stripeEnd, end), 0);
      this.pendingLength = end - stripeEnd;
    }
    return this;
  }

  /** The hash of everything given so far, as an unsigned 32-bit number. */
  digest(): number {
    let h: number;
    if (this.total >= 16) {
      const [v1, v2, v3, v4] = this.acc as unknown as [number, number, number, number];
      h = ((v1 << 1) | (v1 >>> 31)) + ((v2 << 7) | (v2 >>> 25)) + ((v3 << 12) | (v3 >>> 20)) + ((v4 << 18) | (v4 >>> 14));
    } else {
      h = this.seed + PRIME5;
    }
    h = (h + this.total) | 0;
    const tail = this.pending;
    let at = 0;
    for (; at + 4 <= this.pendingLength; at += 4) {
      h = (h + Math.imul(readLane(tail, at), PRIME3)) | 0;
      h = Math.imul((h << 17) | (h >>> 15), PRIME4);
    }
    for (; at < this.pendingLength; at++) {
      h = (h + Math.imul(tail[at]!, PRIME5)) | 0;
      h = Math.imul((h << 11) | (h >>> 21), PRIME1);
    }
    h ^= h >>> 15;
    h = Math.imul(h, PRIME2);
    h ^= h >>> 13;
    h = Math.imul(h, PRIME3);
    h ^= h >>> 16;
    return h >>> 0;
  }

  /** Consumes whole 16-byte stripes of data[start, end). */
  private stripes(data: Uint8Array, start: number, end: number): void {
    const acc = this.acc;
    /* v8 ignore if -- big-endian hosts only */
    if (!littleEndian) {
      hashBytes(data, start, end, acc);
      return;
    }
    const offset = data.byteOffset + start;
    if ((offset & 3) === 0) {
      // Aligned: read lanes as 32-bit words, about twice as fast as composing bytes.
      hashWords(new Int32Array(data.buffer, offset, (end - start) >>> 2), (end - start) >>> 2, acc);
      return;
    }
    // Unaligned: copying to an aligned scratch buffer (memcpy speed) and reading words beats composing bytes.
    for (let at = start; at < end; at += SCRATCH_SIZE) {
      const pieceEnd = Math.min(at + SCRATCH_SIZE, end);
      scratchBytes.set(data.subarray(at, pieceEnd), 0);
      hashWords(scratchWords, (pieceEnd - at) >>> 2, acc);
    }
  }
}

/*
 * The hot loops live in small functions of their own: V8 optimises them about twice as well as
 * the same loop inside a method with other branches (measured: 5.2 against 2.7 GB/s).
 */
function hashWords(words: Int32Array, count: number, acc: Int32Array): void {
  let v1 = acc[0]!;
  let v2 = acc[1]!;
  let v3 = acc[2]!;
  let v4 = acc[3]!;
  for (let i = 0; i < count; i += 4) {
    v1 = round(v1, words[i]!);
    v2 = round(v2, words[i + 1]!);
    v3 = round(v3, words[i + 2]!);
    v4 = round(v4, words[i + 3]!);
  }
  acc[0] = v1;
  acc[1] = v2;
  acc[2] = v3;
  acc[3] = v4;
}

/* v8 ignore next -- big-endian hosts only */
function hashBytes(data: Uint8Array, start: number, end: number, acc: Int32Array): void {
  let v1 = acc[0]!;
  let v2 = acc[1]!;
  let v3 = acc[2]!;
  let v4 = acc[3]!;
  for (let at = start; at < end; at += 16) {
    v1 = round(v1, readLane(data, at));
    v2 = round(v2, readLane(data, at + 4));
    v3 = round(v3, readLane(data, at + 8));
    v4 = round(v4, readLane(data, at + 12));
  }
  acc[0] = v1;
  acc[1] = v2;
  acc[2] = v3;
  acc[3] = v4;
}

/** XXH32 of one buffer. */
export function xxh32(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
  return new Xxh32(seed).update(data, start, end).digest();
}
