import { describe, expect, it } from 'vitest';

import {
  pageChecksum,
  pageChecksumSet,
  PageChecksumValidator,
  pageErrorBlocks,
  pageErrorList,
  pageErrorWarning,
  pageLsn,
  pageStoredChecksum,
  type PageChecksumResult,
  type PageChecksumValidatorOptions,
} from '../../../../engine/postgres/page-checksum.js';
import { pg15Page17Base64 } from './fixtures.js';

const PAGE = 8192;

/** A page of xorshift32 bytes (the same generator made the reference values below). */
function randomPage(seed: number): Uint8Array {
  const page = new Uint8Array(PAGE);
  let x = seed >>> 0 || 1;
  for (let index = 0; index < PAGE; index++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    page[index] = x & 0xff;
  }
  return page;
}

/** A plausible page: random content, pd_lsn as given, pd_upper non-zero, correct checksum for its block. */
function validPage(seed: number, blockNo: number, lsn = 0x1000000n): Uint8Array {
  const page = randomPage(seed);
  const view = new DataView(page.buffer);
  view.setUint32(0, Number(lsn >> 32n), true);
  view.setUint32(4, Number(lsn & 0xffffffffn), true);
  view.setUint16(14, 0x1000, true);
  pageChecksumSet(page, blockNo);
  return page;
}

function relation(pages: Uint8Array[]): Uint8Array {
  return Buffer.concat(pages.map((page) => Buffer.from(page.buffer, page.byteOffset, page.length)));
}

async function validate(
  data: Uint8Array,
  chunkSize: number,
  options: PageChecksumValidatorOptions = {},
): Promise<PageChecksumResult> {
  const validator = new PageChecksumValidator(options);
  for (let offset = 0; offset < data.length; offset += chunkSize) validator.update(data.subarray(offset, offset + chunkSize));
  return validator.finish();
}

describe('pageChecksum', () => {
  it('matches PostgreSQL checksum_impl.h compiled from C on reference pages', () => {
    const patterned = Uint8Array.from({ length: PAGE }, (_, index) => (index * 31 + 7) & 0xff);
    expect(pageChecksum(patterned, 0)).toBe(51176);
    expect(pageChecksum(randomPage(1), 1)).toBe(30571);
    expect(pageChecksum(randomPage(1), 131072 * 3 + 5)).toBe(30569);
    expect(pageChecksum(new Uint8Array(PAGE).fill(0xff), 0xffffffff)).toBe(61925);
  });

  it('leaves pd_checksum out of the sum and does not modify the page', () => {
    const zero = randomPage(42);
    zero[8] = 0;
    zero[9] = 0;
    const set = randomPage(42);
    set[8] = 0x34;
    set[9] = 0x12;
    const before = Buffer.from(set);
    expect(pageChecksum(zero, 7)).toBe(30330);
    expect(pageChecksum(set, 7)).toBe(30330);
    expect(Buffer.from(set).equals(before)).toBe(true);
    expect(pageStoredChecksum(set)).toBe(0x1234);
  });

  it('reproduces the checksum PostgreSQL stored in a real page, and reads its LSN', () => {
    const page = Buffer.from(pg15Page17Base64, 'base64');
    expect(page.length).toBe(PAGE);
    expect(pageStoredChecksum(page)).toBe(18813);
    expect(pageChecksum(page, 17)).toBe(18813);
    expect(pageChecksum(page, 18)).not.toBe(18813);
    expect(pageLsn(page)).toBe(0x1520568n);
  });

  it('works on a page that is not 4-byte aligned in its buffer', () => {
    const page = Buffer.from(pg15Page17Base64, 'base64');
    const unaligned = new Uint8Array(PAGE + 3).subarray(1, PAGE + 1);
    unaligned.set(page);
    expect(pageChecksum(unaligned, 17)).toBe(18813);
    expect(pageLsn(unaligned)).toBe(0x1520568n);
  });

  it('sets a checksum that then validates, and refuses a buffer that is not one page', () => {
    const page = randomPage(9);
    pageChecksumSet(page, 1234);
    expect(pageStoredChecksum(page)).toBe(pageChecksum(page, 1234));
    expect(() => pageChecksum(new Uint8Array(100), 0)).toThrow('a page is 8192 bytes, not 100');
  });
});

describe('PageChecksumValidator', () => {
  const pages = [validPage(1, 0), validPage(2, 1), new Uint8Array(PAGE), validPage(4, 3), validPage(5, 4)];
  const file = relation(pages);

  it('finds every page valid whatever the chunk sizes, and counts new pages', async () => {
    for (const chunkSize of [1, 100, 4095, 4096, PAGE, PAGE + 1, 3 * PAGE - 7, 65536, file.length]) {
      const result = await validate(file, chunkSize);
      expect(result, `chunk size ${chunkSize}`).toEqual({
        valid: true,
        align: true,
        errorBlocks: [],
        errorList: undefined,
        size: file.length,
        pagesChecked: 4,
        pagesNew: 1,
        pagesSkippedLsn: 0,
        pagesChanged: 0,
      });
    }
  });

  it('handles chunks that start at an odd offset of their buffer', async () => {
    const shifted = new Uint8Array(file.length + 1).subarray(1);
    shifted.set(file);
    expect((await validate(shifted, 2 * PAGE)).valid).toBe(true);
  });

  it('reports bad pages by absolute block number, compacted into ranges', async () => {
    const bad = relation([
      validPage(1, 0),
      validPage(2, 1),
      validPage(3, 2),
      validPage(4, 3),
      validPage(5, 4),
      validPage(6, 5),
      validPage(7, 6),
    ]);
    for (const block of [1, 3, 4, 5]) bad[block * PAGE + 100] ^= 0x01;
    const result = await validate(bad, 3 * PAGE);
    expect(result.valid).toBe(false);
    expect(result.align).toBe(true);
    expect(result.errorBlocks).toEqual([1, 3, 4, 5]);
    expect(result.errorList).toEqual([1, [3, 5]]);
    expect(JSON.stringify(result.errorList)).toBe('[1,[3,5]]');
  });

  it('numbers blocks from the segment: segment 2 starts at block 262144', async () => {
    const first = 2 * 131072;
    const segment = relation([validPage(1, first), validPage(2, first + 1)]);
    expect((await validate(segment, PAGE, { segmentNo: 2 })).valid).toBe(true);
    expect((await validate(segment, PAGE, { segmentNo: 0 })).errorBlocks).toEqual([0, 1]);
    const small = relation([validPage(1, 8), validPage(2, 9)]);
    expect((await validate(small, PAGE, { segmentNo: 2, segmentPageTotal: 4 })).valid).toBe(true);
    expect((await validate(small, PAGE, { segmentNo: 2 })).errorList).toEqual([[262144, 262145]]);
    expect(() => new PageChecksumValidator({ segmentNo: 32768 })).toThrow('outside the block number range');
  });

  it('treats a page with pd_upper 0 but data in it as invalid', async () => {
    const page = validPage(1, 0);
    page[14] = 0;
    page[15] = 0;
    expect((await validate(relation([page]), PAGE)).errorBlocks).toEqual([0]);
  });

  it('skips pages at or after the LSN limit, which changed during the backup', async () => {
    const limit = 0x2_00000000n;
    const changed = [
      validPage(1, 0, limit),
      validPage(2, 1, limit + 1n),
      validPage(3, 2, 0x3_00000000n),
      validPage(4, 3, limit - 1n),
    ];
    for (const page of changed) page[200] ^= 0xff;
    const result = await validate(relation(changed), PAGE, { lsnLimit: limit });
    expect(result.errorBlocks).toEqual([3]);
    expect(result.pagesSkippedLsn).toBe(3);
    expect((await validate(relation(changed), PAGE)).errorBlocks).toEqual([0, 1, 2, 3]);
  });

  it('flags a misaligned file: no error list, and a partial page of 512 bytes or more is a bad block', async () => {
    const torn = relation([validPage(1, 0), validPage(2, 1)]).subarray(0, PAGE + 600);
    const tornResult = await validate(torn, 5000);
    expect(tornResult).toMatchObject({ valid: false, align: false, errorBlocks: [1], errorList: undefined, pagesChecked: 1 });
    const stub = relation([validPage(1, 0), validPage(2, 1)]).subarray(0, PAGE + 100);
    expect(await validate(stub, PAGE)).toMatchObject({ valid: false, align: false, errorBlocks: [], errorList: undefined });
  });

  it('drops a failed page that changed when read again, and keeps one that did not', async () => {
    const data = relation([validPage(1, 0), validPage(2, 1), validPage(3, 2)]);
    data[PAGE + 10] ^= 1;
    data[2 * PAGE + 10] ^= 1;
    const validator = new PageChecksumValidator();
    validator.update(data);
    const offsets: number[] = [];
    const result = await validator.finish({
      rereadPage: async (offset) => {
        offsets.push(offset);
        // Block 1 was rewritten by PostgreSQL in the meantime; block 2 is still the same damaged page.
        return offset === PAGE ? validPage(9, 1) : data.slice(offset, offset + PAGE);
      },
    });
    expect(offsets).toEqual([PAGE, 2 * PAGE]);
    expect(result.errorBlocks).toEqual([2]);
    expect(result.pagesChanged).toBe(1);

    const gone = new PageChecksumValidator();
    gone.update(data);
    expect((await gone.finish({ rereadPage: async () => undefined })).errorBlocks).toEqual([1, 2]);
  });

  it('re-reads at offsets within the segment file', async () => {
    const data = relation([validPage(1, 262144), validPage(2, 262145)]);
    data[PAGE + 10] ^= 1;
    const validator = new PageChecksumValidator({ segmentNo: 2 });
    validator.update(data);
    const offsets: number[] = [];
    const result = await validator.finish({
      rereadPage: async (offset) => (offsets.push(offset), data.slice(offset, offset + PAGE)),
    });
    expect(offsets).toEqual([PAGE]);
    expect(result.errorBlocks).toEqual([262145]);
  });

  it('refuses use after finish', async () => {
    const validator = new PageChecksumValidator();
    validator.update(new Uint8Array(PAGE));
    await validator.finish();
    expect(() => validator.update(new Uint8Array(PAGE))).toThrow('used after finish');
    await expect(validator.finish()).rejects.toThrow('finished twice');
  });

  it('gives an empty file as valid', async () => {
    expect(await new PageChecksumValidator().finish()).toMatchObject({ valid: true, align: true, size: 0, pagesChecked: 0 });
  });
});

describe('page error lists', () => {
  it('compacts and expands block lists', () => {
    expect(pageErrorList([])).toEqual([]);
    expect(pageErrorList([7])).toEqual([7]);
    expect(pageErrorList([1, 3, 4, 5, 9, 10])).toEqual([1, [3, 5], [9, 10]]);
    expect(pageErrorBlocks([1, [3, 5], [9, 10]])).toEqual([1, 3, 4, 5, 9, 10]);
  });

  it('words the warning as pgBackRest does', () => {
    expect(pageErrorWarning('base/1/2', [1, [3, 5]])).toBe('invalid page checksums found in file base/1/2 at pages 1, 3-5');
    expect(pageErrorWarning('base/1/2', [7])).toBe('invalid page checksum found in file base/1/2 at page 7');
    expect(pageErrorWarning('base/1/2', [[7, 8]])).toBe('invalid page checksums found in file base/1/2 at pages 7-8');
  });
});
