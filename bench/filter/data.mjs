// Benchmark and test data: PostgreSQL-heap-like 8 KiB pages shaped like pgbench_accounts (61 tuples
// of 128 bytes per page: tuple header, aid, bid, abalance, 84 blank filler bytes), and random bytes.
import { randomBytes } from 'node:crypto';

const PAGE = 8192;
const TUPLE = 128;
const TUPLES_PER_PAGE = 61;

/** Writes page number `block` of a pgbench_accounts-like heap into page (an 8 KiB Buffer). */
export function fillHeapPage(page, block) {
  page.fill(0);
  const lower = 24 + 4 * TUPLES_PER_PAGE;
  const upper = PAGE - TUPLES_PER_PAGE * TUPLE;
  page.writeUInt32LE(0x1, 0); // pd_lsn hi
  page.writeUInt32LE(0x5000000 + block * 40, 4); // pd_lsn lo: differs per page
  page.writeUInt16LE((block * 7919) & 0xffff, 8); // pd_checksum
  page.writeUInt16LE(lower, 12);
  page.writeUInt16LE(upper, 14);
  page.writeUInt16LE(PAGE, 16);
  page.writeUInt16LE(PAGE | 4, 18);
  for (let i = 0; i < TUPLES_PER_PAGE; i++) {
    const off = PAGE - (i + 1) * TUPLE;
    page.writeUInt32LE(off | (1 << 15) | (121 << 17), 24 + 4 * i); // line pointer: offset, normal, length 121
    const aid = block * TUPLES_PER_PAGE + i + 1;
    page.writeUInt32LE(737, off); // xmin
    page.writeUInt32LE(block, off + 12); // ctid block (hi/lo halves in the real layout; close enough)
    page.writeUInt16LE(i + 1, off + 16); // ctid offset
    page.writeUInt16LE(4, off + 18); // infomask2: 4 attributes
    page.writeUInt16LE(0x0902, off + 20); // infomask
    page[off + 22] = 24; // t_hoff
    page.writeUInt32LE(aid, off + 24);
    page.writeUInt32LE(Math.floor(aid / 100000) + 1, off + 28);
    page.writeUInt32LE(0, off + 32);
    page[off + 36] = 0xab; // short varlena header of 85 bytes
    page.fill(0x20, off + 37, off + 37 + 84);
  }
  return page;
}

/** `size` bytes of pgbench-like heap pages (size a multiple of 8 KiB), starting at page `firstBlock`. */
export function heapPages(size, firstBlock = 0) {
  const data = Buffer.allocUnsafe(size);
  for (let block = 0; block * PAGE < size; block++)
    fillHeapPage(data.subarray(block * PAGE, (block + 1) * PAGE), firstBlock + block);
  return data;
}

export function randomData(size) {
  return randomBytes(size);
}

/** An async iterable of `total` bytes in `chunkSize` chunks, built from a repeating sample of heap pages. */
export async function* heapStream(total, chunkSize = 1024 * 1024) {
  let block = 0;
  for (let done = 0; done < total; done += chunkSize) {
    const size = Math.min(chunkSize, total - done);
    yield heapPages(size, block);
    block += size / PAGE;
  }
}
