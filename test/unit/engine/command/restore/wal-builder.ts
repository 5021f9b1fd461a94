import { crc32cUpdate } from '../../../../../engine/postgres/crc32c.js';
import { formatSegmentName } from '../../../../../engine/postgres/wal.js';

const PG_EPOCH_MICROS = 946_684_800_000_000n;

export interface BlockRef {
  readonly forkFlags: number;
  readonly data?: Buffer;
  /** A full-page image: its bytes and bimg_info. */
  readonly image?: { readonly bytes: Buffer; readonly info: number };
}

/**
 * Writes WAL as PostgreSQL lays it out (for the reader's tests): page headers, long on the first
 * page of each segment, MAXALIGNed records with CRC-32C and xl_prev, records continued across pages
 * and segments with XLP_FIRST_IS_CONTRECORD.
 */
export class WalBuilder {
  private readonly bytes: Buffer;
  private position: bigint;
  private previous = 0n;
  private readonly start: bigint;

  constructor(
    readonly segmentSize = 1024 * 1024,
    readonly segments = 2,
    readonly options: { pageSize?: number; timeline?: number; magic?: number; firstSegment?: number } = {},
  ) {
    this.start = BigInt((options.firstSegment ?? 2) * segmentSize);
    this.bytes = Buffer.alloc(segmentSize * segments);
    this.position = this.start;
  }

  get pageSize(): number {
    return this.options.pageSize ?? 8192;
  }

  get lsn(): bigint {
    return this.position;
  }

  /** Appends a record; returns its LSN. */
  record(
    rmid: number,
    info: number,
    xid: number,
    main: Buffer,
    blocks: readonly BlockRef[] = [],
    options: { badCrc?: boolean; prev?: bigint } = {},
  ): bigint {
    const headers: Buffer[] = [];
    const datas: Buffer[] = [];
    blocks.forEach((block, id) => {
      const data = block.data ?? Buffer.alloc(0);
      const header = Buffer.alloc(4);
      header[0] = id;
      header[1] = block.forkFlags | (block.image === undefined ? 0 : 0x10);
      header.writeUInt16LE(data.length, 2);
      headers.push(header);
      if (block.image !== undefined) {
        const image = Buffer.alloc(5);
        image.writeUInt16LE(block.image.bytes.length, 0);
        image[4] = block.image.info;
        headers.push(image);
        if ((block.image.info & 0x01) !== 0 && (block.image.info & 0x1e) !== 0) headers.push(Buffer.alloc(2));
        datas.push(block.image.bytes);
      }
      if ((block.forkFlags & 0x80) === 0) headers.push(Buffer.alloc(12, 1));
      headers.push(Buffer.from([0, 0, 0, 0]));
      datas.push(data);
    });
    if (main.length > 0) {
      if (main.length < 256) headers.push(Buffer.from([255, main.length]));
      else {
        const long = Buffer.alloc(5);
        long[0] = 254;
        long.writeUInt32LE(main.length, 1);
        headers.push(long);
      }
    }
    return this.raw(rmid, info, xid, Buffer.concat([...headers, ...datas, main]), options);
  }

  /** Appends a record of this body (block headers, data, main data as given) with a valid header and CRC. */
  raw(rmid: number, info: number, xid: number, body: Buffer, options: { badCrc?: boolean; prev?: bigint } = {}): bigint {
    const header = Buffer.alloc(24);
    header.writeUInt32LE(24 + body.length, 0);
    header.writeUInt32LE(xid, 4);
    header.writeBigUInt64LE(options.prev ?? this.previous, 8);
    header[16] = info;
    header[17] = rmid;
    const crc = crc32cUpdate(crc32cUpdate(0, body), header, 0, 20);
    header.writeUInt32LE(options.badCrc === true ? (crc ^ 1) >>> 0 : crc, 20);
    this.align();
    this.pageHeaderIfNeeded(0);
    const lsn = this.position;
    this.write(Buffer.concat([header, body]));
    this.previous = lsn;
    return lsn;
  }

  commit(xid: number, unixMicros: bigint, options: { abort?: boolean; blocks?: readonly BlockRef[] } = {}): bigint {
    const main = Buffer.alloc(16);
    main.writeBigInt64LE(unixMicros - PG_EPOCH_MICROS, 0);
    return this.record(1, options.abort === true ? 0x20 : 0x00, xid, main, options.blocks);
  }

  restorePoint(name: string, unixMicros: bigint): bigint {
    const main = Buffer.alloc(8 + 64);
    main.writeBigInt64LE(unixMicros - PG_EPOCH_MICROS, 0);
    main.write(name, 8, 'utf8');
    return this.record(0, 0x70, 0, main);
  }

  /** A heap-like record of some size (no interest to the reader). */
  filler(size: number): bigint {
    return this.record(10, 0x00, 1, Buffer.alloc(size, 0xab));
  }

  walSwitch(): bigint {
    return this.record(0, 0x40, 0, Buffer.alloc(0));
  }

  /** The segments written so far, by name. */
  build(timeline = this.options.timeline ?? 1): Map<string, Buffer> {
    const result = new Map<string, Buffer>();
    const first = Number(this.start / BigInt(this.segmentSize));
    for (let index = 0; index < this.segments; index++) {
      result.set(
        formatSegmentName(timeline, first + index, this.segmentSize),
        this.bytes.subarray(index * this.segmentSize, (index + 1) * this.segmentSize),
      );
    }
    return result;
  }

  private align(): void {
    this.position = (this.position + 7n) & ~7n;
  }

  private offset(): number {
    return Number(this.position - this.start);
  }

  /** At a page start: writes the page header (remaining = bytes of a record continued onto the page). */
  private pageHeaderIfNeeded(remaining: number): void {
    if (this.position % BigInt(this.pageSize) !== 0n) return;
    const long = this.position % BigInt(this.segmentSize) === 0n;
    const at = this.offset();
    this.bytes.writeUInt16LE(this.options.magic ?? 0xd110, at);
    this.bytes.writeUInt16LE((long ? 0x0002 : 0) | (remaining > 0 ? 0x0001 : 0), at + 2);
    this.bytes.writeUInt32LE(this.options.timeline ?? 1, at + 4);
    this.bytes.writeBigUInt64LE(this.position, at + 8);
    this.bytes.writeUInt32LE(remaining, at + 16);
    if (long) {
      this.bytes.writeBigUInt64LE(7710482956265128591n, at + 24);
      this.bytes.writeUInt32LE(this.segmentSize, at + 32);
      this.bytes.writeUInt32LE(this.pageSize, at + 36);
    }
    this.position += BigInt(long ? 40 : 24);
  }

  private write(data: Buffer): void {
    let done = 0;
    while (done < data.length) {
      if (done > 0) this.pageHeaderIfNeeded(data.length - done);
      const room = this.pageSize - Number(this.position % BigInt(this.pageSize));
      const take = Math.min(room, data.length - done);
      data.copy(this.bytes, this.offset(), done, done + take);
      done += take;
      this.position += BigInt(take);
    }
  }
}
