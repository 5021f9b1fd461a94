import { crc32cUpdate } from '../../postgres/crc32c.js';
import { lsnFormat } from '../../postgres/lsn.js';
import { pgVersionByWalMagic } from '../../postgres/version-table.js';
import { segmentStartLsn } from '../../postgres/wal.js';

/*
 * A reader of the WAL records in one segment, for what the restore plan needs to know about a
 * recovery target: commit and abort times and xids (time and xid targets), restore points (name
 * targets), and where valid WAL ends. It streams: one page and the record being read are held,
 * whatever the segment size. The record format is PostgreSQL's since 9.5 (xlogrecord.h): page
 * headers (long on a segment's first page), MAXALIGNed records that continue across pages,
 * block references before the main data, CRC-32C over the record. WAL is valid up to the first
 * page or record that does not check out (a page address that is not the page's, a record whose
 * xl_prev does not point at the record before it, a CRC mismatch, zeros): that is the end of WAL,
 * as for PostgreSQL's own reader.
 */

const SHORT_PAGE_HEADER = 24;
const LONG_PAGE_HEADER = 40;
const XLP_FIRST_IS_CONTRECORD = 0x0001;
const XLP_LONG_HEADER = 0x0002;
const RECORD_HEADER = 24;
const CRC_OFFSET = 20;
const MAXALIGN = 8;

const RM_XLOG_ID = 0;
const RM_XACT_ID = 1;
const XLOG_SWITCH = 0x40;
const XLOG_RESTORE_POINT = 0x70;
const XLOG_XACT_OPMASK = 0x70;
const XLOG_XACT_COMMIT = 0x00;
const XLOG_XACT_ABORT = 0x20;
const XLOG_XACT_COMMIT_PREPARED = 0x30;
const XLOG_XACT_ABORT_PREPARED = 0x40;

const XLR_MAX_BLOCK_ID = 32;
const XLR_BLOCK_ID_DATA_SHORT = 255;
const XLR_BLOCK_ID_DATA_LONG = 254;
const XLR_BLOCK_ID_ORIGIN = 253;
const XLR_BLOCK_ID_TOPLEVEL_XID = 252;
const BKPBLOCK_HAS_IMAGE = 0x10;
const BKPBLOCK_SAME_REL = 0x80;
const BKPIMAGE_HAS_HOLE = 0x01;
/** bimg_info bits that mean "compressed": one bit before PostgreSQL 15, one per method since. */
const BKPIMAGE_COMPRESSED_14 = 0x02;
const BKPIMAGE_COMPRESSED_15 = 0x04 | 0x08 | 0x10;
const RESTORE_POINT_NAME_SIZE = 64;

/** Records of interest are kept whole up to this size; bigger ones are only checked. */
const KEEP_RECORD_MAX = 1024 * 1024;
/** PostgreSQL's epoch (2000-01-01) in Unix microseconds: TimestampTz counts from it. */
const PG_EPOCH_MICROS = 946_684_800_000_000;

/** The end of a transaction: where a time target (and an xid target) can stop recovery. */
export interface WalTransaction {
  readonly lsn: bigint;
  readonly end: bigint;
  /** The record's xid; for a prepared transaction this is not the prepared one's (its xid is in the record body). */
  readonly xid: number;
  /** Commit or abort time, Unix microseconds. */
  readonly time: number;
  readonly commit: boolean;
  /** COMMIT PREPARED or ROLLBACK PREPARED. */
  readonly prepared: boolean;
}

export interface WalRestorePoint {
  readonly lsn: bigint;
  readonly end: bigint;
  readonly name: string;
  readonly time: number;
}

export interface WalRecordEvents {
  /** A commit or abort record, of a transaction or a prepared one. */
  transaction?(record: WalTransaction): void;
  restorePoint?(record: WalRestorePoint): void;
}

export interface WalSegmentSummary {
  /** Start of the first whole record in the segment (undefined: none). */
  readonly firstLsn: bigint | undefined;
  /** End of the last valid record (undefined: none). */
  readonly endLsn: bigint | undefined;
  readonly records: number;
  /** The last valid record was a WAL switch: the rest of the segment is padding. */
  readonly switched: boolean;
  /** Why reading stopped before the end of the segment, when it did. */
  readonly stop: string | undefined;
}

interface PendingRecord {
  readonly lsn: bigint;
  readonly totalLength: number;
  received: number;
  readonly header: Buffer;
  /** The whole record, for the records of interest (decided once the header is in). */
  body: Buffer | undefined;
  crc: number;
}

/** Reads the records of one segment pushed to it in chunks of any size. */
export class WalSegmentScanner {
  private readonly segmentStart: bigint;
  private pageSize = 0;
  private page: Buffer = Buffer.alloc(0);
  private pageFill = 0;
  private pageIndex = 0;
  private magic = -1;
  private compressedBits = BKPIMAGE_COMPRESSED_15;
  private record: PendingRecord | undefined;
  /** Bytes of a record continued from the previous segment still to skip. */
  private skipContinuation: number | undefined;
  private previousLsn: bigint | undefined;
  private firstLsn: bigint | undefined;
  private endLsn: bigint | undefined;
  private records = 0;
  private switched = false;
  private stopped: string | undefined;

  constructor(
    readonly segment: string,
    readonly segmentSize: number,
    private readonly events: WalRecordEvents = {},
  ) {
    this.segmentStart = segmentStartLsn(segment, segmentSize);
  }

  get done(): boolean {
    return this.stopped !== undefined || this.switched;
  }

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length && !this.done) {
      if (this.pageSize === 0) {
        // The page size is in the long header of the first page: read that much first.
        if (this.page.length === 0) this.page = Buffer.alloc(LONG_PAGE_HEADER);
        const take = Math.min(LONG_PAGE_HEADER - this.pageFill, chunk.length - offset);
        this.page.set(chunk.subarray(offset, offset + take), this.pageFill);
        this.pageFill += take;
        offset += take;
        if (this.pageFill < LONG_PAGE_HEADER) return;
        this.readLongHeader();
        if (this.done) return;
        continue;
      }
      const take = Math.min(this.pageSize - this.pageFill, chunk.length - offset);
      this.page.set(chunk.subarray(offset, offset + take), this.pageFill);
      this.pageFill += take;
      offset += take;
      if (this.pageFill === this.pageSize) {
        this.readPage();
        this.pageIndex++;
        this.pageFill = 0;
      }
    }
  }

  finish(): WalSegmentSummary {
    let stop = this.stopped;
    if (stop === undefined && !this.switched && this.record !== undefined) stop = 'the last record continues in the next segment';
    return { firstLsn: this.firstLsn, endLsn: this.endLsn, records: this.records, switched: this.switched, stop };
  }

  private stop(reason: string): void {
    this.stopped ??= reason;
  }

  private readLongHeader(): void {
    const header = this.page;
    const info = header.readUInt16LE(2);
    if ((info & XLP_LONG_HEADER) === 0) return this.stop('the first page has no long header');
    this.magic = header.readUInt16LE(0);
    try {
      const version = pgVersionByWalMagic(this.magic);
      this.compressedBits = version.versionNum >= 150000 ? BKPIMAGE_COMPRESSED_15 : BKPIMAGE_COMPRESSED_14;
    } catch {
      return this.stop(`unknown WAL magic 0x${this.magic.toString(16)}`);
    }
    const segmentSize = header.readUInt32LE(32);
    const pageSize = header.readUInt32LE(36);
    if (segmentSize !== this.segmentSize)
      return this.stop(`the header says segment size ${segmentSize}, not ${this.segmentSize}`);
    if (pageSize < 1024 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
      return this.stop(`the header says page size ${pageSize}, which is not valid`);
    this.pageSize = pageSize;
    const page = Buffer.alloc(pageSize);
    header.copy(page, 0, 0, LONG_PAGE_HEADER);
    this.page = page;
  }

  private readPage(): void {
    const page = this.page;
    const pageLsn = this.segmentStart + BigInt(this.pageIndex * this.pageSize);
    const magic = page.readUInt16LE(0);
    const info = page.readUInt16LE(2);
    const pageAddress = page.readBigUInt64LE(8);
    if (magic !== this.magic || pageAddress !== pageLsn)
      return this.stop(`page at ${lsnFormat(pageLsn)} is not WAL of this segment`);
    const remaining = page.readUInt32LE(16);
    let position = (info & XLP_LONG_HEADER) !== 0 ? LONG_PAGE_HEADER : SHORT_PAGE_HEADER;
    const continued = (info & XLP_FIRST_IS_CONTRECORD) !== 0;

    if (this.pageIndex === 0 && this.skipContinuation === undefined) this.skipContinuation = continued ? remaining : 0;
    if (this.skipContinuation !== undefined && this.skipContinuation > 0) {
      // The tail of a record that began in the previous segment: not ours to read.
      if (!continued) return this.stop(`page at ${lsnFormat(pageLsn)} lacks the continuation of a record`);
      const take = Math.min(this.skipContinuation, this.pageSize - position);
      this.skipContinuation -= take;
      position = align(position + take);
      if (this.skipContinuation > 0) return;
    } else if (this.record !== undefined) {
      if (!continued || remaining !== this.record.totalLength - this.record.received) {
        return this.stop(`record at ${lsnFormat(this.record.lsn)} is not continued on the next page`);
      }
      position = this.feed(page, position);
      if (this.record !== undefined || this.done) return;
    }

    while (position + 4 <= this.pageSize && !this.done) {
      const lsn = pageLsn + BigInt(position);
      const totalLength = page.readUInt32LE(position);
      if (totalLength === 0) return this.stop(`no record at ${lsnFormat(lsn)} (end of WAL)`);
      if (totalLength < RECORD_HEADER) return this.stop(`record at ${lsnFormat(lsn)} has invalid length ${totalLength}`);
      this.record = { lsn, totalLength, received: 0, header: Buffer.alloc(RECORD_HEADER), body: undefined, crc: 0 };
      position = this.feed(page, position);
      if (this.record !== undefined) return; // continues on the next page
    }
  }

  /** Passes the page's bytes from `position` to the pending record; returns where the next record starts. */
  private feed(page: Buffer, position: number): number {
    const record = this.record!;
    const take = Math.min(record.totalLength - record.received, this.pageSize - position);
    const bytes = page.subarray(position, position + take);
    let used = 0;
    if (record.received < RECORD_HEADER) {
      const headerPart = Math.min(RECORD_HEADER - record.received, bytes.length);
      bytes.copy(record.header, record.received, 0, headerPart);
      used = headerPart;
      if (record.received + headerPart === RECORD_HEADER) this.headerComplete(record);
    }
    if (used < bytes.length) {
      record.crc = crc32cUpdate(record.crc, bytes, used, bytes.length);
      record.body?.set(bytes.subarray(used), record.received + used);
    }
    record.received += take;
    if (record.received === record.totalLength) {
      this.record = undefined;
      this.complete(record);
      return align(position + take);
    }
    return position + take;
  }

  private headerComplete(record: PendingRecord): void {
    const rmid = record.header[17]!;
    const info = record.header[16]! & 0xf0;
    const wanted =
      (rmid === RM_XACT_ID && this.events.transaction !== undefined) ||
      (rmid === RM_XLOG_ID && (info === XLOG_RESTORE_POINT || info === XLOG_SWITCH));
    if (wanted && record.totalLength <= KEEP_RECORD_MAX) {
      record.body = Buffer.alloc(record.totalLength);
      record.header.copy(record.body);
    }
  }

  private complete(record: PendingRecord): void {
    const header = record.header;
    const crc = crc32cUpdate(record.crc, header, 0, CRC_OFFSET);
    if (crc !== header.readUInt32LE(CRC_OFFSET))
      return this.stop(`record at ${lsnFormat(record.lsn)} fails its CRC (end of WAL)`);
    const previous = header.readBigUInt64LE(8);
    if (this.previousLsn !== undefined && previous !== this.previousLsn)
      return this.stop(`record at ${lsnFormat(record.lsn)} does not follow the previous one (end of WAL)`);
    this.previousLsn = record.lsn;
    this.firstLsn ??= record.lsn;
    const end = record.lsn + BigInt(record.totalLength);
    this.endLsn = end;
    this.records++;
    const rmid = header[17]!;
    const info = header[16]!;
    if (rmid === RM_XLOG_ID && (info & 0xf0) === XLOG_SWITCH) {
      this.switched = true;
      return;
    }
    if (record.body === undefined) return;
    const main = mainData(record.body, this.compressedBits);
    if (main === undefined) return;
    if (rmid === RM_XACT_ID) {
      const op = info & XLOG_XACT_OPMASK;
      const ends =
        op === XLOG_XACT_COMMIT || op === XLOG_XACT_ABORT || op === XLOG_XACT_COMMIT_PREPARED || op === XLOG_XACT_ABORT_PREPARED;
      if (ends && main.length >= 8) {
        this.events.transaction?.({
          lsn: record.lsn,
          end,
          xid: header.readUInt32LE(4),
          time: Number(main.readBigInt64LE(0)) + PG_EPOCH_MICROS,
          commit: op === XLOG_XACT_COMMIT || op === XLOG_XACT_COMMIT_PREPARED,
          prepared: op === XLOG_XACT_COMMIT_PREPARED || op === XLOG_XACT_ABORT_PREPARED,
        });
      }
    } else if ((info & 0xf0) === XLOG_RESTORE_POINT && main.length >= 8 + RESTORE_POINT_NAME_SIZE) {
      const nameBytes = main.subarray(8, 8 + RESTORE_POINT_NAME_SIZE);
      const nul = nameBytes.indexOf(0);
      this.events.restorePoint?.({
        lsn: record.lsn,
        end,
        name: nameBytes.subarray(0, nul === -1 ? nameBytes.length : nul).toString('utf8'),
        time: Number(main.readBigInt64LE(0)) + PG_EPOCH_MICROS,
      });
    }
  }
}

function align(position: number): number {
  return Math.ceil(position / MAXALIGN) * MAXALIGN;
}

/**
 * The main data of a record: its last bytes, of the length the header section says after the
 * block references (DecodeXLogRecord's layout). Undefined when the headers do not add up.
 */
function mainData(record: Buffer, compressedBits: number): Buffer | undefined {
  let position = RECORD_HEADER;
  let mainLength = 0;
  while (position < record.length) {
    const id = record[position++]!;
    if (id === XLR_BLOCK_ID_DATA_SHORT) {
      mainLength = record[position]!;
      break;
    }
    if (id === XLR_BLOCK_ID_DATA_LONG) {
      if (position + 4 > record.length) return undefined;
      mainLength = record.readUInt32LE(position);
      break;
    }
    if (id === XLR_BLOCK_ID_ORIGIN) position += 2;
    else if (id === XLR_BLOCK_ID_TOPLEVEL_XID) position += 4;
    else if (id <= XLR_MAX_BLOCK_ID) {
      if (position + 3 > record.length) return undefined;
      const forkFlags = record[position]!;
      position += 3; // fork_flags, data_length
      if ((forkFlags & BKPBLOCK_HAS_IMAGE) !== 0) {
        if (position + 5 > record.length) return undefined;
        const imageInfo = record[position + 4]!;
        position += 5;
        if ((imageInfo & BKPIMAGE_HAS_HOLE) !== 0 && (imageInfo & compressedBits) !== 0) position += 2;
      }
      if ((forkFlags & BKPBLOCK_SAME_REL) === 0) position += 12;
      position += 4; // block number
    } else return undefined;
  }
  if (mainLength > record.length - RECORD_HEADER) return undefined;
  return record.subarray(record.length - mainLength);
}

/** Reads a whole segment from a stream of its (decompressed) bytes, stopping early at the end of WAL. */
export async function scanWalSegment(
  source: AsyncIterable<Uint8Array>,
  segment: string,
  segmentSize: number,
  events: WalRecordEvents = {},
): Promise<WalSegmentSummary> {
  const scanner = new WalSegmentScanner(segment, segmentSize, events);
  for await (const chunk of source) {
    scanner.push(chunk);
    if (scanner.done) break;
  }
  return scanner.finish();
}

/** Unix microseconds to epoch seconds with a fraction. */
export function microsToSeconds(micros: number): number {
  return micros / 1_000_000;
}
