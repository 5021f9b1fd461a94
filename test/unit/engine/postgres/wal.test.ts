import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  backupHistoryFileName,
  formatSegmentName,
  historyFileName,
  isBackupHistoryName,
  isHistoryName,
  isPartialName,
  isSegmentName,
  isSegmentOrPartialName,
  lsnFormat,
  lsnParse,
  lsnToSegmentName,
  lsnToSegmentNo,
  nextSegmentName,
  parseSegmentName,
  parseTimelineHistory,
  parseWalHeader,
  previousSegmentName,
  readWalHeader,
  segmentRange,
  segmentStartLsn,
  segmentsPerXLogId,
  timelineOfSegmentName,
  WAL_SEGMENT_DIR_REGEX,
} from '../../../../engine/postgres/wal.js';
import { pg15ControlData, pg15WalHeaderHex } from './fixtures.js';

const MiB = 1024 * 1024;
const SEG16 = 16 * MiB;

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

const examples = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'pgbackrest-2.45-examples');
const temp = mkdtempSync(join(tmpdir(), 'pgkeep-wal-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('LSN', () => {
  it('parses and formats as PostgreSQL writes them', () => {
    expect(lsnParse('0/3000028')).toBe(0x3000028n);
    expect(lsnParse('1A/FF000000')).toBe(0x1a_ff000000n);
    expect(lsnParse('1a/ff000000')).toBe(0x1a_ff000000n);
    expect(lsnParse('FFFFFFFF/FFFFFFFF')).toBe(0xffffffffffffffffn);
    expect(lsnFormat(0x3000028n)).toBe('0/3000028');
    expect(lsnFormat(0x1a_ff000000n)).toBe('1A/FF000000');
    expect(lsnFormat(0n)).toBe('0/0');
    expect(lsnFormat(0xffffffffffffffffn)).toBe('FFFFFFFF/FFFFFFFF');
  });

  it('refuses what is not an LSN', () => {
    for (const text of ['', '0', '0/', '/1', 'x/1', '123456789/0', '0/3000028 ', '-1/0']) {
      expect(thrown(() => lsnParse(text))).toMatchObject({ errorName: 'Format', message: `'${text}' is not a valid LSN` });
    }
    expect(thrown(() => lsnFormat(-1n))).toMatchObject({ errorName: 'Assert' });
    expect(thrown(() => lsnFormat(1n << 64n))).toMatchObject({ errorName: 'Assert' });
  });
});

describe('segment names', () => {
  it('has 0x100000000 / segment size segments per xlogid', () => {
    expect(segmentsPerXLogId(SEG16)).toBe(256);
    expect(segmentsPerXLogId(MiB)).toBe(4096);
    expect(segmentsPerXLogId(1024 * MiB)).toBe(4);
    expect(thrown(() => segmentsPerXLogId(3 * MiB))).toMatchObject({ errorName: 'Format' });
  });

  it('parses and formats names', () => {
    expect(parseSegmentName('000000010000000000000003', SEG16)).toEqual({ timeline: 1, segmentNo: 3 });
    expect(parseSegmentName('0000000A00000001000000FF', SEG16)).toEqual({ timeline: 10, segmentNo: 511 });
    expect(parseSegmentName('000000010000000000000003.partial', SEG16)).toEqual({ timeline: 1, segmentNo: 3 });
    expect(formatSegmentName(10, 511, SEG16)).toBe('0000000A00000001000000FF');
    expect(formatSegmentName(1, 4096 * 0xffffffff + 4095, MiB)).toBe('00000001FFFFFFFF00000FFF');
    expect(thrown(() => parseSegmentName('00000001000000000000000g', SEG16))).toMatchObject({ errorName: 'Format' });
    expect(thrown(() => parseSegmentName('000000010000000000000100', SEG16))).toMatchObject({
      errorName: 'Format',
      message: "'000000010000000000000100' is not a WAL segment name for 16777216-byte segments",
    });
    expect(thrown(() => formatSegmentName(1, -1, SEG16))).toMatchObject({ errorName: 'Assert' });
    expect(thrown(() => formatSegmentName(1, 256 * 0x100000000, SEG16))).toMatchObject({ errorName: 'Assert' });
    expect(timelineOfSegmentName('0000000A0000000000000003.00000028.backup')).toBe(10);
    expect(thrown(() => timelineOfSegmentName('00000002.history'))).toMatchObject({ errorName: 'Format' });
  });

  it('steps over xlogid boundaries for every segment size', () => {
    expect(nextSegmentName('0000000100000000000000FE', SEG16)).toBe('0000000100000000000000FF');
    expect(nextSegmentName('0000000100000000000000FF', SEG16)).toBe('000000010000000100000000');
    expect(previousSegmentName('000000010000000100000000', SEG16)).toBe('0000000100000000000000FF');
    expect(nextSegmentName('000000010000000000000003', 1024 * MiB)).toBe('000000010000000100000000');
    expect(previousSegmentName('000000010000000100000000', 1024 * MiB)).toBe('000000010000000000000003');
    expect(nextSegmentName('000000010000000000000FFF', MiB)).toBe('000000010000000100000000');
    expect(nextSegmentName('000000020000001A0000003F', 64 * MiB)).toBe('000000020000001B00000000');
    expect(thrown(() => previousSegmentName('000000010000000000000000', SEG16))).toMatchObject({ errorName: 'Format' });
  });

  it('names the segment of an LSN, and the LSN a segment starts at', () => {
    expect(lsnToSegmentName(1, lsnParse('0/3000028'), SEG16)).toBe('000000010000000000000003');
    expect(lsnToSegmentName(1, lsnParse('0/4000000'), SEG16)).toBe('000000010000000000000004');
    expect(lsnToSegmentName(1, lsnParse('0/3FFFFFF'), SEG16)).toBe('000000010000000000000003');
    expect(lsnToSegmentName(2, lsnParse('1A/FF000028'), SEG16)).toBe('000000020000001A000000FF');
    expect(lsnToSegmentName(1, lsnParse('1A/FF000028'), 1024 * MiB)).toBe('000000010000001A00000003');
    expect(lsnToSegmentNo(lsnParse('FFFFFFFF/FFFFFFFF'), MiB)).toBe(2 ** 44 - 1);
    expect(segmentStartLsn('000000020000001A000000FF', SEG16)).toBe(lsnParse('1A/FF000000'));
  });

  it('lists every segment from a backup start to its stop, across an xlogid boundary', () => {
    expect(segmentRange(1, lsnParse('0/3000028'), lsnParse('0/3000100'), SEG16)).toEqual(['000000010000000000000003']);
    expect(segmentRange(1, lsnParse('0/3000028'), lsnParse('0/4000050'), SEG16)).toEqual([
      '000000010000000000000003',
      '000000010000000000000004',
    ]);
    expect(segmentRange(3, lsnParse('0/FE000028'), lsnParse('1/1000000'), SEG16)).toEqual([
      '0000000300000000000000FE',
      '0000000300000000000000FF',
      '000000030000000100000000',
      '000000030000000100000001',
    ]);
    expect(segmentRange(1, lsnParse('0/C0000000'), lsnParse('1/40000000'), 1024 * MiB)).toEqual([
      '000000010000000000000003',
      '000000010000000100000000',
      '000000010000000100000001',
    ]);
    expect(thrown(() => segmentRange(1, 2n, 1n, SEG16))).toMatchObject({ errorName: 'Assert' });
  });

  it('recognises segments, .partial, .history and .backup names as pgBackRest does', () => {
    expect(isSegmentName('000000010000000000000003')).toBe(true);
    expect(isSegmentName('00000001000000000000000a')).toBe(false);
    expect(isSegmentName('00000001000000000000003')).toBe(false);
    expect(isSegmentName('000000010000000000000003.partial')).toBe(false);
    expect(isSegmentOrPartialName('000000010000000000000003.partial')).toBe(true);
    expect(isSegmentOrPartialName('000000010000000000000003')).toBe(true);
    expect(isSegmentOrPartialName('000000010000000000000003.part')).toBe(false);
    expect(isPartialName('000000010000000000000003.partial')).toBe(true);
    expect(isPartialName('000000010000000000000003')).toBe(false);
    expect(isPartialName('0000000100000000000000ZZ.partial')).toBe(false);
    expect(isHistoryName('00000002.history')).toBe(true);
    expect(isHistoryName('0000002.history')).toBe(false);
    expect(isHistoryName('00000002.historyx')).toBe(false);
    expect(isBackupHistoryName('000000010000000000000003.00000028.backup')).toBe(true);
    expect(isBackupHistoryName('000000010000000000000003.backup')).toBe(false);
    expect(WAL_SEGMENT_DIR_REGEX.test('0000000100000000')).toBe(true);
    expect(WAL_SEGMENT_DIR_REGEX.test('000000010000000000000003')).toBe(false);
  });

  it('names history and backup history files like the real ones', () => {
    expect(historyFileName(2)).toBe('00000002.history');
    expect(historyFileName(0x1f)).toBe('0000001F.history');
    expect(backupHistoryFileName(1, lsnParse('0/3000028'), SEG16)).toBe('000000010000000000000003.00000028.backup');
    expect(backupHistoryFileName(1, lsnParse('1/FFFFFF0'), SEG16)).toBe('00000001000000010000000F.00FFFFF0.backup');
  });
});

describe('WAL header', () => {
  const header = Buffer.from(pg15WalHeaderHex, 'hex');

  it('reads a real PostgreSQL 15 segment header', () => {
    const parsed = parseWalHeader(header);
    expect(parsed.version.version).toBe('15');
    expect(parsed.magic).toBe(0xd110);
    expect(parsed.info).toBe(0x0002);
    expect(parsed.timeline).toBe(1);
    expect(parsed.pageAddress).toBe(0x1000000n);
    expect(parsed.remainingLength).toBe(0);
    expect(parsed.systemIdText).toBe(pg15ControlData.systemId);
    expect(parsed.systemId).toBe(BigInt(pg15ControlData.systemId));
    expect(parsed.segmentSize).toBe(SEG16);
    expect(parsed.blockSize).toBe(8192);
    expect(parsed.pageAddress).toBe(segmentStartLsn('000000010000000000000001', parsed.segmentSize));
  });

  it('refuses a short buffer, a short header, an unknown magic and an invalid segment size', () => {
    expect(thrown(() => parseWalHeader(header.subarray(0, 39), '/wal/x'))).toMatchObject({
      errorName: 'FileInvalid',
      message: "'/wal/x' is 39 bytes: too short for a WAL segment header",
    });
    const short = Buffer.from(header);
    short.writeUInt16LE(0x0005, 2);
    expect(thrown(() => parseWalHeader(short, '/wal/x'))).toMatchObject({
      errorName: 'Format',
      message: "first page header in WAL file '/wal/x' is expected to be in long format",
    });
    const old = Buffer.from(header);
    old.writeUInt16LE(0xd098, 0);
    expect(thrown(() => parseWalHeader(old, '/wal/x'))).toMatchObject({
      errorName: 'VersionNotSupported',
      message: "unexpected WAL magic 0xD098 in '/wal/x'",
      hint: expect.stringContaining('pgkeep supports PostgreSQL 12') as unknown,
    });
    const bad = Buffer.from(header);
    bad.writeUInt32LE(12345, 32);
    expect(thrown(() => parseWalHeader(bad))).toMatchObject({
      errorName: 'Format',
      message: "WAL file 'WAL segment' has segment size 12345 in its header, which is not valid",
    });
  });

  it('reads the header from a file, and names a missing file', async () => {
    const path = join(temp, '000000010000000000000001');
    writeFileSync(path, Buffer.concat([header, Buffer.alloc(8192 - header.length)]));
    expect((await readWalHeader(path)).systemIdText).toBe(pg15ControlData.systemId);
    const shortPath = join(temp, 'short');
    writeFileSync(shortPath, header.subarray(0, 20));
    await expect(readWalHeader(shortPath)).rejects.toMatchObject({ errorName: 'FileInvalid' });
    await expect(readWalHeader(join(temp, 'missing'))).rejects.toMatchObject({
      errorName: 'FileMissing',
      message: expect.stringContaining(`unable to open WAL file '${join(temp, 'missing')}'`) as unknown,
    });
    await expect(readWalHeader(join(path, 'below-a-file'))).rejects.toMatchObject({
      errorName: 'FileOpen',
      message: expect.stringContaining('not a directory') as unknown,
    });
    await expect(readWalHeader(temp)).rejects.toMatchObject({
      errorName: 'FileRead',
      message: expect.stringContaining(`unable to read WAL file '${temp}'`) as unknown,
    });
  });
});

describe('timeline history', () => {
  it('parses the real 00000002.history written by a promotion', () => {
    const text = readFileSync(join(examples, '00000002.history'), 'utf8');
    expect(parseTimelineHistory(text)).toEqual([
      { parentTimeline: 1, switchLsn: lsnParse('0/1F000000'), reason: 'no recovery target specified' },
    ]);
  });

  it('skips comments and blank lines and keeps the reason text', () => {
    const text =
      '# comment\n\n1\t0/1F000000\tno recovery target specified\r\n  2\t0/2A0000A0\tat restore point "before upgrade"\n3\t1/0\n';
    expect(parseTimelineHistory(text)).toEqual([
      { parentTimeline: 1, switchLsn: 0x1f000000n, reason: 'no recovery target specified' },
      { parentTimeline: 2, switchLsn: 0x2a0000a0n, reason: 'at restore point "before upgrade"' },
      { parentTimeline: 3, switchLsn: 0x1_00000000n, reason: '' },
    ]);
    expect(parseTimelineHistory('')).toEqual([]);
  });

  it('refuses syntax errors and timelines out of order, naming the line', () => {
    expect(thrown(() => parseTimelineHistory('1\t0/1F000000\tok\nbad line\n', '00000003.history'))).toMatchObject({
      errorName: 'Format',
      message: "syntax error in 00000003.history at line 2: 'bad line'",
    });
    expect(thrown(() => parseTimelineHistory('2\t0/1\tx\n1\t0/2\ty\n'))).toMatchObject({
      errorName: 'Format',
      message: 'invalid data in timeline history file at line 2: timeline IDs must be in increasing sequence',
    });
    expect(thrown(() => parseTimelineHistory('99999999999\t0/1\tx\n'))).toMatchObject({ errorName: 'Format' });
  });
});
