import { createHash } from 'node:crypto';

import { PgkeepError } from '../error/pgkeep-error.js';
import { SIMD_BATCH_PAGES, simdChecksumKernel, type SimdChecksumKernel } from './page-checksum-simd.js';
import { PG_PAGE_SIZE, PG_SEGMENT_PAGE_TOTAL } from './version-table.js';

/*
 * PostgreSQL's data page checksum (src/include/storage/checksum_impl.h, unchanged from 9.3 to
 * 18): the page is read as 64 rows of 32 native 32-bit words; each of the 32 columns is an
 * FNV-1a-like hash, `h = (h ^ v) * FNV_PRIME ^ ((h ^ v) >>> 17)`, started from its own base
 * offset, followed by two rounds of zero; the columns are xor-folded, the block number is xored
 * in, and the result is reduced to 1..65535. pd_checksum (bytes 8-9) counts as zero.
 *
 * Speed: this runs over every relation page of a backup, so the validator below hands pages to
 * the WebAssembly SIMD kernel of page-checksum-simd.ts in batches (13 GB/s on one core, copy into
 * its memory included). This JavaScript block function stays for single pages (pageChecksum) and
 * big-endian hosts: its 32 lanes are unrolled into local variables, which V8 keeps in registers
 * (3.2 GB/s; a loop over a sums array is 1.9). `npm run bench -- filter` measures both.
 */

const N_SUMS = 32;
const FNV_PRIME = 16777619;
const PAGE_WORDS = PG_PAGE_SIZE / 4;

/** Pages are native-endian, like the Uint32Array views here; this selects the pd_checksum half of word 2. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// Every `LITTLE_ENDIAN ?` below has a big-endian branch that no test host can take (x86-64 and
// ARM64 are little-endian); they keep the code right on s390x, where pages are big-endian too.
const CHECKSUM_WORD_MASK = LITTLE_ENDIAN ? 0xffff0000 : 0x0000ffff;

function checksumBlock(words: Uint32Array, base: number): number {
  let t: number;
  // Row 0, lanes initialised from checksumBaseOffsets; its word 2 holds pd_checksum, which counts as zero.
  t = 0x5b1f36e9 ^ words[base]!;
  let s0 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0xb8525960 ^ words[base + 1]!;
  let s1 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x02ab50aa ^ (words[base + 2]! & CHECKSUM_WORD_MASK);
  let s2 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x1de66d2a ^ words[base + 3]!;
  let s3 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x79ff467a ^ words[base + 4]!;
  let s4 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x9bb9f8a3 ^ words[base + 5]!;
  let s5 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x217e7cd2 ^ words[base + 6]!;
  let s6 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x83e13d2c ^ words[base + 7]!;
  let s7 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0xf8d4474f ^ words[base + 8]!;
  let s8 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0xe39eb970 ^ words[base + 9]!;
  let s9 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x42c6ae16 ^ words[base + 10]!;
  let s10 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x993216fa ^ words[base + 11]!;
  let s11 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x7b093b5d ^ words[base + 12]!;
  let s12 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x98daff3c ^ words[base + 13]!;
  let s13 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0xf718902a ^ words[base + 14]!;
  let s14 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x0b1c9cdb ^ words[base + 15]!;
  let s15 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0xe58f764b ^ words[base + 16]!;
  let s16 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x187636bc ^ words[base + 17]!;
  let s17 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x5d7b3bb1 ^ words[base + 18]!;
  let s18 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0xe73de7de ^ words[base + 19]!;
  let s19 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x92bec979 ^ words[base + 20]!;
  let s20 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0xcca6c0b2 ^ words[base + 21]!;
  let s21 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x304a0979 ^ words[base + 22]!;
  let s22 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x85aa43d4 ^ words[base + 23]!;
  let s23 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x783125bb ^ words[base + 24]!;
  let s24 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x6ca8eaa2 ^ words[base + 25]!;
  let s25 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0xe407eac6 ^ words[base + 26]!;
  let s26 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x4b5cfc3e ^ words[base + 27]!;
  let s27 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x9fbf8c76 ^ words[base + 28]!;
  let s28 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x15ca20be ^ words[base + 29]!;
  let s29 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0xf2ca9fd3 ^ words[base + 30]!;
  let s30 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  t = 0x959bd756 ^ words[base + 31]!;
  let s31 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  // Rows 1 to 63.
  for (let row = base + N_SUMS, end = base + PAGE_WORDS; row < end; row += N_SUMS) {
    t = s0 ^ words[row]!;
    s0 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s1 ^ words[row + 1]!;
    s1 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s2 ^ words[row + 2]!;
    s2 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s3 ^ words[row + 3]!;
    s3 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s4 ^ words[row + 4]!;
    s4 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s5 ^ words[row + 5]!;
    s5 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s6 ^ words[row + 6]!;
    s6 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s7 ^ words[row + 7]!;
    s7 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s8 ^ words[row + 8]!;
    s8 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s9 ^ words[row + 9]!;
    s9 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s10 ^ words[row + 10]!;
    s10 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s11 ^ words[row + 11]!;
    s11 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s12 ^ words[row + 12]!;
    s12 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s13 ^ words[row + 13]!;
    s13 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s14 ^ words[row + 14]!;
    s14 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s15 ^ words[row + 15]!;
    s15 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s16 ^ words[row + 16]!;
    s16 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s17 ^ words[row + 17]!;
    s17 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s18 ^ words[row + 18]!;
    s18 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s19 ^ words[row + 19]!;
    s19 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s20 ^ words[row + 20]!;
    s20 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s21 ^ words[row + 21]!;
    s21 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s22 ^ words[row + 22]!;
    s22 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s23 ^ words[row + 23]!;
    s23 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s24 ^ words[row + 24]!;
    s24 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s25 ^ words[row + 25]!;
    s25 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s26 ^ words[row + 26]!;
    s26 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s27 ^ words[row + 27]!;
    s27 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s28 ^ words[row + 28]!;
    s28 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s29 ^ words[row + 29]!;
    s29 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s30 ^ words[row + 30]!;
    s30 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
    t = s31 ^ words[row + 31]!;
    s31 = Math.imul(t, FNV_PRIME) ^ (t >>> 17);
  }
  // Two rounds of zeroes for the final mixing.
  for (let round = 0; round < 2; round++) {
    s0 = Math.imul(s0, FNV_PRIME) ^ (s0 >>> 17);
    s1 = Math.imul(s1, FNV_PRIME) ^ (s1 >>> 17);
    s2 = Math.imul(s2, FNV_PRIME) ^ (s2 >>> 17);
    s3 = Math.imul(s3, FNV_PRIME) ^ (s3 >>> 17);
    s4 = Math.imul(s4, FNV_PRIME) ^ (s4 >>> 17);
    s5 = Math.imul(s5, FNV_PRIME) ^ (s5 >>> 17);
    s6 = Math.imul(s6, FNV_PRIME) ^ (s6 >>> 17);
    s7 = Math.imul(s7, FNV_PRIME) ^ (s7 >>> 17);
    s8 = Math.imul(s8, FNV_PRIME) ^ (s8 >>> 17);
    s9 = Math.imul(s9, FNV_PRIME) ^ (s9 >>> 17);
    s10 = Math.imul(s10, FNV_PRIME) ^ (s10 >>> 17);
    s11 = Math.imul(s11, FNV_PRIME) ^ (s11 >>> 17);
    s12 = Math.imul(s12, FNV_PRIME) ^ (s12 >>> 17);
    s13 = Math.imul(s13, FNV_PRIME) ^ (s13 >>> 17);
    s14 = Math.imul(s14, FNV_PRIME) ^ (s14 >>> 17);
    s15 = Math.imul(s15, FNV_PRIME) ^ (s15 >>> 17);
    s16 = Math.imul(s16, FNV_PRIME) ^ (s16 >>> 17);
    s17 = Math.imul(s17, FNV_PRIME) ^ (s17 >>> 17);
    s18 = Math.imul(s18, FNV_PRIME) ^ (s18 >>> 17);
    s19 = Math.imul(s19, FNV_PRIME) ^ (s19 >>> 17);
    s20 = Math.imul(s20, FNV_PRIME) ^ (s20 >>> 17);
    s21 = Math.imul(s21, FNV_PRIME) ^ (s21 >>> 17);
    s22 = Math.imul(s22, FNV_PRIME) ^ (s22 >>> 17);
    s23 = Math.imul(s23, FNV_PRIME) ^ (s23 >>> 17);
    s24 = Math.imul(s24, FNV_PRIME) ^ (s24 >>> 17);
    s25 = Math.imul(s25, FNV_PRIME) ^ (s25 >>> 17);
    s26 = Math.imul(s26, FNV_PRIME) ^ (s26 >>> 17);
    s27 = Math.imul(s27, FNV_PRIME) ^ (s27 >>> 17);
    s28 = Math.imul(s28, FNV_PRIME) ^ (s28 >>> 17);
    s29 = Math.imul(s29, FNV_PRIME) ^ (s29 >>> 17);
    s30 = Math.imul(s30, FNV_PRIME) ^ (s30 >>> 17);
    s31 = Math.imul(s31, FNV_PRIME) ^ (s31 >>> 17);
  }
  return (
    (s0 ^
      s1 ^
      s2 ^
      s3 ^
      s4 ^
      s5 ^
      s6 ^
      s7 ^
      s8 ^
      s9 ^
      s10 ^
      s11 ^
      s12 ^
      s13 ^
      s14 ^
      s15 ^
      s16 ^
      s17 ^
      s18 ^
      s19 ^
      s20 ^
      s21 ^
      s22 ^
      s23 ^
      s24 ^
      s25 ^
      s26 ^
      s27 ^
      s28 ^
      s29 ^
      s30 ^
      s31) >>>
    0
  );
}

/** Combines the block checksum with the block number and reduces it to pd_checksum's range (1..65535). */
function finishChecksum(blockChecksum: number, blockNo: number): number {
  return (((blockChecksum ^ blockNo) >>> 0) % 65535) + 1;
}

function pageWords(page: Uint8Array): Uint32Array {
  if (page.length !== PG_PAGE_SIZE) throw new PgkeepError('Assert', `a page is ${PG_PAGE_SIZE} bytes, not ${page.length}`);
  // A view needs 4-byte alignment; an unaligned page is copied (Buffer pool slices can be unaligned).
  return page.byteOffset % 4 === 0
    ? new Uint32Array(page.buffer, page.byteOffset, PAGE_WORDS)
    : new Uint32Array(page.slice().buffer);
}

/**
 * The checksum PostgreSQL stores in pd_checksum for this page at this block number (the block
 * number counts from the start of the relation, across its 1 GiB segment files). The page is not
 * modified. Meaningless for a new (all-zero) page, which carries no checksum.
 */
export function pageChecksum(page: Uint8Array, blockNo: number): number {
  return finishChecksum(checksumBlock(pageWords(page), 0), blockNo);
}

/** pd_checksum as stored in the page header. */
export function pageStoredChecksum(page: Uint8Array): number {
  return LITTLE_ENDIAN ? page[8]! | (page[9]! << 8) : (page[8]! << 8) | page[9]!;
}

/** pd_lsn: the LSN of the last WAL record that changed the page. */
export function pageLsn(page: Uint8Array): bigint {
  const words = pageWords(page);
  return (BigInt(words[0]!) << 32n) | BigInt(words[1]!);
}

/** Sets pd_checksum to the right value for `blockNo` (for tests and tools that build pages). */
export function pageChecksumSet(page: Uint8Array, blockNo: number): void {
  const checksum = pageChecksum(page, blockNo);
  page[LITTLE_ENDIAN ? 8 : 9] = checksum & 0xff;
  page[LITTLE_ENDIAN ? 9 : 8] = checksum >>> 8;
}

const BATCH_BYTES = SIMD_BATCH_PAGES * PG_PAGE_SIZE;

/**
 * The block checksums of a batch of pages: the WebAssembly SIMD kernel on little-endian hosts,
 * checksumBlock behind the same interface elsewhere.
 */
function blockChecksumKernel(): SimdChecksumKernel {
  return LITTLE_ENDIAN ? simdChecksumKernel() : javascriptChecksumKernel();
}

let javascriptKernel: SimdChecksumKernel | undefined;

/** checksumBlock behind the kernel's interface (big-endian hosts; and the kernel's reference in tests). */
export function javascriptChecksumKernel(): SimdChecksumKernel {
  if (javascriptKernel !== undefined) return javascriptKernel;
  const pages = new Uint8Array(BATCH_BYTES);
  const words = new Uint32Array(pages.buffer);
  const results = new Uint32Array(SIMD_BATCH_PAGES);
  javascriptKernel = {
    pages,
    words,
    results,
    checksumBlocks(count) {
      for (let index = 0; index < count; index++) results[index] = checksumBlock(words, index * PAGE_WORDS);
    },
  };
  return javascriptKernel;
}

// ---------------------------------------------------------------------------------------------------------------------------
// Validating a relation segment file as it streams by, as pgBackRest's page checksum filter does.

/** pgBackRest's compact list of bad blocks: single block numbers and [first, last] ranges, e.g. [1,[3,5]]. */
export type PageErrorList = (number | [number, number])[];

export interface PageChecksumValidatorOptions {
  /** The relation segment number: `16385.2` is segment 2 (default 0). */
  readonly segmentNo?: number;
  /** Blocks per segment file (default 131072, 1 GiB segments; pg_control's relSegSize). */
  readonly segmentPageTotal?: number;
  /**
   * Skip pages whose pd_lsn is at or after this LSN (the backup start LSN): they changed during
   * the backup and WAL replay rewrites them. pgBackRest 2.45 does not do this any more (a page
   * with a damaged LSN would hide its error); it re-reads failed pages instead, which `finish`
   * does when given `rereadPage`. Off by default.
   */
  readonly lsnLimit?: bigint;
}

export interface PageChecksumResult {
  /** Every page is valid and the file size is a multiple of the page size: the manifest's `checksum-page`. */
  readonly valid: boolean;
  /** The file size is a multiple of the page size. */
  readonly align: boolean;
  /** Absolute block numbers of the invalid pages, ascending; a partial last page of 512 bytes or more is one of them. */
  readonly errorBlocks: number[];
  /**
   * `errorBlocks` compacted for the manifest's `checksum-page-error`; undefined when there is none
   * to write: no errors, or a misaligned file (pgBackRest then writes `checksum-page: false` alone).
   */
  readonly errorList: PageErrorList | undefined;
  /** Bytes seen. */
  readonly size: number;
  /** Complete pages whose checksum was computed. */
  readonly pagesChecked: number;
  /** All-zero pages (never written; no checksum). */
  readonly pagesNew: number;
  /** Pages skipped by `lsnLimit`. */
  readonly pagesSkippedLsn: number;
  /** Pages that failed when first read but had changed when read again (PostgreSQL was writing them). */
  readonly pagesChanged: number;
}

interface Failure {
  readonly blockNo: number;
  /** SHA-1 of the bytes that failed, to tell on a re-read whether the page changed. Absent for the partial last page. */
  readonly digest: Buffer | undefined;
}

/**
 * Validates the page checksums of one relation segment file given in chunks of any size. Memory
 * is one page of carry-over plus the list of failures; nothing is allocated per valid page.
 *
 * Rules (pgBackRest 2.45's page checksum filter): an all-zero page is new and valid; a page with
 * pd_upper 0 but other bytes set is invalid; every other page must carry the checksum of its
 * absolute block number. A partial last page of at least 512 bytes is reported as an invalid
 * block; any partial page makes the file misaligned, and then `valid` is false with no error list
 * (pgBackRest warns "page misalignment" instead).
 */
export class PageChecksumValidator {
  private readonly firstBlock: number;
  private readonly lsnLimitHigh: number;
  private readonly lsnLimitLow: number;
  private readonly carry = new Uint8Array(PG_PAGE_SIZE);
  private carryUsed = 0;
  private pageIndex = 0;
  private size = 0;
  private pagesChecked = 0;
  private pagesNew = 0;
  private pagesSkippedLsn = 0;
  private readonly failures: Failure[] = [];
  private finished = false;

  constructor(options: PageChecksumValidatorOptions = {}) {
    const segmentNo = options.segmentNo ?? 0;
    const segmentPageTotal = options.segmentPageTotal ?? PG_SEGMENT_PAGE_TOTAL;
    this.firstBlock = segmentNo * segmentPageTotal;
    if (!Number.isInteger(this.firstBlock) || this.firstBlock < 0 || this.firstBlock + segmentPageTotal > 0x100000000) {
      throw new PgkeepError(
        'Assert',
        `relation segment ${segmentNo} of ${segmentPageTotal} pages is outside the block number range`,
      );
    }
    // Without a limit every LSN is below 2^64: high = 2^32 can never be reached.
    const limit = options.lsnLimit;
    this.lsnLimitHigh = limit === undefined ? 0x100000000 : Number(limit >> 32n);
    this.lsnLimitLow = limit === undefined ? 0 : Number(limit & 0xffffffffn);
  }

  /** Feeds the next bytes of the file. */
  update(chunk: Uint8Array): void {
    if (this.finished) throw new PgkeepError('Assert', 'page checksum validator used after finish');
    this.size += chunk.length;
    let offset = 0;
    if (this.carryUsed > 0) {
      const take = Math.min(PG_PAGE_SIZE - this.carryUsed, chunk.length);
      this.carry.set(chunk.subarray(0, take), this.carryUsed);
      this.carryUsed += take;
      offset = take;
      if (this.carryUsed < PG_PAGE_SIZE) return;
      this.checkPages(this.carry);
      this.carryUsed = 0;
    }
    const wholeEnd = offset + Math.floor((chunk.length - offset) / PG_PAGE_SIZE) * PG_PAGE_SIZE;
    for (let start = offset; start < wholeEnd; start += BATCH_BYTES) {
      this.checkPages(chunk.subarray(start, Math.min(start + BATCH_BYTES, wholeEnd)));
    }
    if (wholeEnd < chunk.length) {
      this.carry.set(chunk.subarray(wholeEnd), 0);
      this.carryUsed = chunk.length - wholeEnd;
    }
  }

  /** Whole pages, at most a kernel batch: their block checksums in one kernel call, then each page's rules. */
  private checkPages(pages: Uint8Array): void {
    const kernel = blockChecksumKernel();
    kernel.pages.set(pages);
    const count = pages.length / PG_PAGE_SIZE;
    kernel.checksumBlocks(count);
    for (let index = 0; index < count; index++) this.checkPage(kernel.words, index * PAGE_WORDS, kernel.results[index]!);
  }

  private checkPage(words: Uint32Array, base: number, blockChecksum: number): void {
    const blockNo = this.firstBlock + this.pageIndex++;
    const headerWord3 = words[base + 3]!;
    const pdUpper = LITTLE_ENDIAN ? headerWord3 >>> 16 : headerWord3 & 0xffff;
    if (pdUpper === 0) {
      // A new page is all zeroes; pd_upper 0 on a page with data means a damaged header.
      for (let index = base, end = base + PAGE_WORDS; index < end; index++) {
        if (words[index] !== 0) {
          this.fail(blockNo, words, base);
          return;
        }
      }
      this.pagesNew++;
      return;
    }
    if (this.lsnLimitHigh < 0x100000000) {
      const high = words[base]!;
      if (high > this.lsnLimitHigh || (high === this.lsnLimitHigh && words[base + 1]! >= this.lsnLimitLow)) {
        this.pagesSkippedLsn++;
        return;
      }
    }
    this.pagesChecked++;
    const stored = LITTLE_ENDIAN ? words[base + 2]! & 0xffff : words[base + 2]! >>> 16;
    if (finishChecksum(blockChecksum, blockNo) !== stored) this.fail(blockNo, words, base);
  }

  private fail(blockNo: number, words: Uint32Array, base: number): void {
    const bytes = new Uint8Array(words.buffer, words.byteOffset + base * 4, PG_PAGE_SIZE);
    this.failures.push({ blockNo, digest: createHash('sha1').update(bytes).digest() });
  }

  /**
   * Ends the file and returns the result. With `rereadPage` (reads PG_PAGE_SIZE bytes at that
   * offset of the segment file), every failed page is read again and dropped from the errors when
   * it changed: PostgreSQL is writing it, and WAL replay restores it (pgBackRest does the same).
   */
  async finish(options: { rereadPage?: (offset: number) => Promise<Uint8Array | undefined> } = {}): Promise<PageChecksumResult> {
    if (this.finished) throw new PgkeepError('Assert', 'page checksum validator finished twice');
    this.finished = true;
    const align = this.carryUsed === 0;
    // pgBackRest: at least 512 bytes of a last page is a torn write of that block, less is not a page at all.
    if (!align && this.carryUsed >= 512) this.failures.push({ blockNo: this.firstBlock + this.pageIndex, digest: undefined });

    let pagesChanged = 0;
    const errorBlocks: number[] = [];
    for (const failure of this.failures) {
      if (failure.digest !== undefined && options.rereadPage !== undefined) {
        const again = await options.rereadPage((failure.blockNo - this.firstBlock) * PG_PAGE_SIZE);
        if (again !== undefined && !createHash('sha1').update(again).digest().equals(failure.digest)) {
          pagesChanged++;
          continue;
        }
      }
      errorBlocks.push(failure.blockNo);
    }
    return {
      valid: align && errorBlocks.length === 0,
      align,
      errorBlocks,
      errorList: align && errorBlocks.length > 0 ? pageErrorList(errorBlocks) : undefined,
      size: this.size,
      pagesChecked: this.pagesChecked,
      pagesNew: this.pagesNew,
      pagesSkippedLsn: this.pagesSkippedLsn,
      pagesChanged,
    };
  }
}

/** Compacts ascending block numbers into pgBackRest's list: runs of consecutive blocks become [first, last]. */
export function pageErrorList(blocks: readonly number[]): PageErrorList {
  const list: PageErrorList = [];
  let index = 0;
  while (index < blocks.length) {
    const first = blocks[index]!;
    let last = first;
    while (index + 1 < blocks.length && blocks[index + 1] === last + 1) last = blocks[++index]!;
    list.push(first === last ? first : [first, last]);
    index++;
  }
  return list;
}

/** Expands a compact list back to block numbers. */
export function pageErrorBlocks(list: PageErrorList): number[] {
  const blocks: number[] = [];
  for (const item of list) {
    if (typeof item === 'number') blocks.push(item);
    else for (let block = item[0]; block <= item[1]; block++) blocks.push(block);
  }
  return blocks;
}

/**
 * The WARN pgBackRest logs for a file with bad pages:
 * `invalid page checksums found in file <file> at pages 1, 3-5`.
 */
export function pageErrorWarning(file: string, list: PageErrorList): string {
  const count = list.reduce<number>((total, item) => total + (typeof item === 'number' ? 1 : 2), 0);
  const plural = count > 1 ? 's' : '';
  const pages = list.map((item) => (typeof item === 'number' ? String(item) : `${item[0]}-${item[1]}`)).join(', ');
  return `invalid page checksum${plural} found in file ${file} at page${plural} ${pages}`;
}
