/**
 * CRC-32C (Castagnoli), the CRC PostgreSQL keeps in pg_control (pg_crc32c): reflected polynomial
 * 0x82F63B78, initial value and final xor 0xFFFFFFFF. Slicing-by-8 tables: eight bytes per step.
 */

const POLYNOMIAL = 0x82f63b78;

const tables: Uint32Array[] = (() => {
  const result = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = result[0]!;
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
    first[byte] = crc >>> 0;
  }
  for (let byte = 0; byte < 256; byte++) {
    let crc = first[byte]!;
    for (let slice = 1; slice < 8; slice++) {
      crc = (crc >>> 8) ^ first[crc & 0xff]!;
      result[slice]![byte] = crc >>> 0;
    }
  }
  return result;
})();

// Named, so the hot loop indexes each table directly.
const t0 = tables[0]!;
const t1 = tables[1]!;
const t2 = tables[2]!;
const t3 = tables[3]!;
const t4 = tables[4]!;
const t5 = tables[5]!;
const t6 = tables[6]!;
const t7 = tables[7]!;

/** Continues a CRC over more bytes: pass the result of a previous call (without the final xor), or start with 0. */
export function crc32cUpdate(previous: number, data: Uint8Array, start = 0, end = data.length): number {
  let crc = ~previous;
  let index = start;
  for (; index + 8 <= end; index += 8) {
    const low = crc ^ (data[index]! | (data[index + 1]! << 8) | (data[index + 2]! << 16) | (data[index + 3]! << 24));
    crc =
      t7[low & 0xff]! ^
      t6[(low >>> 8) & 0xff]! ^
      t5[(low >>> 16) & 0xff]! ^
      t4[low >>> 24]! ^
      t3[data[index + 4]!]! ^
      t2[data[index + 5]!]! ^
      t1[data[index + 6]!]! ^
      t0[data[index + 7]!]!;
  }
  for (; index < end; index++) crc = (crc >>> 8) ^ t0[(crc ^ data[index]!) & 0xff]!;
  return ~crc >>> 0;
}

/** CRC-32C of `data[start, end)`. */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  return crc32cUpdate(0, data, start, end);
}
