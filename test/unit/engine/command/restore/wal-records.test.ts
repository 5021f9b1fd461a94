import { describe, expect, it } from 'vitest';

import {
  microsToSeconds,
  scanWalSegment,
  WalSegmentScanner,
  type WalRestorePoint,
  type WalTransaction,
} from '../../../../../engine/command/restore/wal-records.js';
import { WalBuilder } from './wal-builder.js';

const T0 = 1_800_000_000_000_000n;

function scan(segment: Buffer, name: string, segmentSize: number, chunk = 7777) {
  const transactions: WalTransaction[] = [];
  const points: WalRestorePoint[] = [];
  const scanner = new WalSegmentScanner(name, segmentSize, {
    transaction: (record) => transactions.push(record),
    restorePoint: (record) => points.push(record),
  });
  for (let offset = 0; offset < segment.length && !scanner.done; offset += chunk)
    scanner.push(segment.subarray(offset, offset + chunk));
  return { summary: scanner.finish(), transactions, points };
}

describe('WAL record reader', () => {
  it('finds commits, aborts and restore points with their times, across pages and in chunks of any size', async () => {
    const wal = new WalBuilder();
    wal.filler(100);
    const commit = wal.commit(1234, T0 + 5n);
    wal.filler(20000); // spans three pages
    const abort = wal.commit(1235, T0 + 6n, { abort: true });
    const point = wal.restorePoint('before-upgrade', T0 + 7n);
    const last = wal.commit(1236, T0 + 8n, { blocks: [{ forkFlags: 0x20, data: Buffer.alloc(50) }] });
    const end = wal.lsn;
    const [name, segment] = [...wal.build()][0]!;
    for (const chunk of [1, 100, 8192, 1 << 20]) {
      const { summary, transactions, points } = scan(segment, name, wal.segmentSize, chunk);
      expect(transactions.map((record) => [record.lsn, record.xid, record.commit, record.time])).toEqual([
        [commit, 1234, true, Number(T0 + 5n)],
        [abort, 1235, false, Number(T0 + 6n)],
        [last, 1236, true, Number(T0 + 8n)],
      ]);
      expect(points).toEqual([{ lsn: point, end: point + 24n + 2n + 72n, name: 'before-upgrade', time: Number(T0 + 7n) }]);
      expect(summary).toMatchObject({ endLsn: end, records: 6, switched: false, stop: expect.stringContaining('end of WAL') });
    }
    const streamed = await scanWalSegment(
      (async function* () {
        yield segment;
      })(),
      name,
      wal.segmentSize,
    );
    expect(streamed.endLsn).toBe(end);
    expect(microsToSeconds(1_500_000)).toBe(1.5);
  });

  it('reads main data after block references of every shape', () => {
    const wal = new WalBuilder();
    const blocks = [
      { forkFlags: 0x00, data: Buffer.alloc(10) },
      { forkFlags: 0x80, image: { bytes: Buffer.alloc(300, 1), info: 0x01 } },
      { forkFlags: 0x00, image: { bytes: Buffer.alloc(200, 2), info: 0x01 | 0x04 } },
    ];
    const commit = wal.commit(77, T0, { blocks });
    const [name, segment] = [...wal.build()][0]!;
    expect(scan(segment, name, wal.segmentSize).transactions).toMatchObject([{ lsn: commit, xid: 77, time: Number(T0) }]);
    // Before PostgreSQL 15 the compressed flag was 0x02: a WAL magic of 14 reads the hole length by it
    const old = new WalBuilder(1024 * 1024, 2, { magic: 0xd10d });
    old.commit(78, T0, { blocks: [{ forkFlags: 0, image: { bytes: Buffer.alloc(64), info: 0x01 | 0x02 } }] });
    const [oldName, oldSegment] = [...old.build()][0]!;
    expect(scan(oldSegment, oldName, old.segmentSize).transactions.map((record) => record.xid)).toEqual([78]);
  });

  it('reads records with a long main data length, and skips big records it does not need', () => {
    const wal = new WalBuilder(1024 * 1024, 3);
    const big = wal.record(0, 0x70, 0, Buffer.alloc(2 * 1024 * 1024, 0)); // a restore point too big to keep: checked, not read
    const commit = wal.commit(5, T0);
    const long = wal.record(1, 0x00, 6, Buffer.concat([Buffer.alloc(8), Buffer.alloc(400)]));
    const segments = [...wal.build()];
    const third = segments[2]!;
    const { transactions, points, summary } = scan(third[1], third[0], wal.segmentSize);
    expect(points).toEqual([]);
    expect(transactions.map((record) => record.lsn)).toEqual([commit, long]);
    expect(summary.firstLsn).toBe(commit);
    expect(big).toBeLessThan(commit);
  });

  it('skips the tail of a record continued from the previous segment', () => {
    const wal = new WalBuilder(1024 * 1024, 2);
    wal.filler(1024 * 1024 - 200); // ends in the second segment
    const commit = wal.commit(9, T0);
    const [, second] = [...wal.build()];
    const { transactions, summary } = scan(second![1], second![0], wal.segmentSize);
    expect(transactions.map((record) => record.lsn)).toEqual([commit]);
    expect(summary.firstLsn).toBe(commit);
  });

  it('reports a last record that continues in the next segment', () => {
    const wal = new WalBuilder(1024 * 1024, 2);
    wal.commit(1, T0);
    wal.filler(1024 * 1024);
    const [first] = [...wal.build()];
    expect(scan(first![1], first![0], wal.segmentSize).summary.stop).toBe('the last record continues in the next segment');
  });

  it('stops at a WAL switch, a bad CRC, a broken xl_prev chain, a foreign page', () => {
    const switched = new WalBuilder();
    switched.commit(1, T0);
    switched.walSwitch();
    switched.commit(2, T0);
    const [name, segment] = [...switched.build()][0]!;
    const result = scan(segment, name, switched.segmentSize);
    expect(result.summary.switched).toBe(true);
    expect(result.transactions.map((record) => record.xid)).toEqual([1]);

    const crc = new WalBuilder();
    crc.commit(1, T0);
    crc.record(1, 0, 2, Buffer.alloc(16), [], { badCrc: true });
    const [crcName, crcSegment] = [...crc.build()][0]!;
    expect(scan(crcSegment, crcName, crc.segmentSize).summary.stop).toMatch(/fails its CRC/);

    const chain = new WalBuilder();
    chain.commit(1, T0);
    chain.record(1, 0, 2, Buffer.alloc(16), [], { prev: 12345n });
    const [chainName, chainSegment] = [...chain.build()][0]!;
    expect(scan(chainSegment, chainName, chain.segmentSize).summary.stop).toMatch(/does not follow/);

    const foreign = new WalBuilder();
    foreign.filler(9000);
    const [foreignName, foreignSegment] = [...foreign.build()][0]!;
    const copy = Buffer.from(foreignSegment);
    copy.writeBigUInt64LE(0n, 8192 + 8); // the second page's address
    expect(scan(copy, foreignName, foreign.segmentSize).summary.stop).toMatch(/not WAL of this segment/);
    const lost = Buffer.from(foreignSegment);
    lost.writeUInt16LE(0, 8192 + 2); // the continuation flag is gone
    expect(scan(lost, foreignName, foreign.segmentSize).summary.stop).toMatch(/is not continued on the next page/);
  });

  it('refuses what is not a segment of the expected kind', () => {
    const wal = new WalBuilder();
    wal.commit(1, T0);
    const [name, segment] = [...wal.build()][0]!;
    const short = Buffer.from(segment);
    short.writeUInt16LE(0, 2);
    expect(scan(short, name, wal.segmentSize).summary.stop).toBe('the first page has no long header');
    const magic = Buffer.from(segment);
    magic.writeUInt16LE(0x1234, 0);
    expect(scan(magic, name, wal.segmentSize).summary.stop).toMatch(/unknown WAL magic/);
    expect(scan(segment, name, 2 * 1024 * 1024).summary.stop).toMatch(/segment size 1048576, not 2097152/);
    const page = Buffer.from(segment);
    page.writeUInt32LE(1000, 36);
    expect(scan(page, name, wal.segmentSize).summary.stop).toMatch(/page size 1000/);
    const length = Buffer.from(segment);
    length.writeUInt32LE(10, 40);
    expect(scan(length, name, wal.segmentSize).summary.stop).toMatch(/invalid length 10/);
    // A segment whose first page continues a record that the second page does not continue
    const cut = new WalBuilder(1024 * 1024, 2);
    cut.filler(1024 * 1024 + 20000);
    const [, second] = [...cut.build()];
    const broken = Buffer.from(second![1]);
    broken.writeUInt16LE(0, 8192 + 2);
    expect(scan(broken, second![0], cut.segmentSize).summary.stop).toMatch(/lacks the continuation/);
  });

  it('reads nothing when no events are asked for, and counts records', () => {
    const wal = new WalBuilder();
    wal.commit(1, T0);
    const [name, segment] = [...wal.build()][0]!;
    const scanner = new WalSegmentScanner(name, wal.segmentSize);
    scanner.push(segment);
    expect(scanner.finish()).toMatchObject({ records: 1 });
  });
});
