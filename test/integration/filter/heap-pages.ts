// PostgreSQL-heap-like 8 KiB pages shaped like pgbench_accounts: 61 tuples of 128 bytes per page
// (tuple header, aid, bid, abalance, 84 blank filler bytes), the rest of the page zeros. The same
// generator as bench/filter/data.mjs (which runs on plain Node and cannot import TypeScript).

const PAGE = 8192;
const TUPLE = 128;
const TUPLES_PER_PAGE = 61;

function fillHeapPage(page: Buffer, block: number): void {
  page.fill(0);
  page.writeUInt32LE(0x1, 0);
  page.writeUInt32LE((0x5000000 + block * 40) >>> 0, 4);
  page.writeUInt16LE((block * 7919) & 0xffff, 8);
  page.writeUInt16LE(24 + 4 * TUPLES_PER_PAGE, 12);
  page.writeUInt16LE(PAGE - TUPLES_PER_PAGE * TUPLE, 14);
  page.writeUInt16LE(PAGE, 16);
  page.writeUInt16LE(PAGE | 4, 18);
  for (let i = 0; i < TUPLES_PER_PAGE; i++) {
    const off = PAGE - (i + 1) * TUPLE;
    page.writeUInt32LE((off | (1 << 15) | (121 << 17)) >>> 0, 24 + 4 * i);
    const aid = block * TUPLES_PER_PAGE + i + 1;
    page.writeUInt32LE(737, off);
    page.writeUInt32LE(block >>> 0, off + 12);
    page.writeUInt16LE(i + 1, off + 16);
    page.writeUInt16LE(4, off + 18);
    page.writeUInt16LE(0x0902, off + 20);
    page[off + 22] = 24;
    page.writeUInt32LE(aid >>> 0, off + 24);
    page.writeUInt32LE(Math.floor(aid / 100000) + 1, off + 28);
    page.writeUInt32LE(0, off + 32);
    page[off + 36] = 0xab;
    page.fill(0x20, off + 37, off + 37 + 84);
  }
}

/** `size` bytes (a multiple of 8 KiB) of heap pages starting at page `firstBlock`. */
export function heapPages(size: number, firstBlock = 0): Buffer {
  const data = Buffer.allocUnsafe(size);
  for (let block = 0; block * PAGE < size; block++)
    fillHeapPage(data.subarray(block * PAGE, (block + 1) * PAGE), firstBlock + block);
  return data;
}

/** `total` bytes of heap pages, generated chunk by chunk (never all in memory). */
export async function* heapStream(total: number, chunkSize = 1024 * 1024): AsyncIterable<Buffer> {
  let block = 0;
  for (let done = 0; done < total; done += chunkSize) {
    const size = Math.min(chunkSize, total - done);
    yield heapPages(size, block);
    block += size / PAGE;
  }
}
