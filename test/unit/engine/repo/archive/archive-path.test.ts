import { describe, expect, it } from 'vitest';

import {
  archiveFilePath,
  archiveRange,
  archiveSegmentDir,
  archiveSegmentName,
  archiveSegmentPath,
  isPartialSegment,
  isWalSegment,
  parseStoredSegmentName,
  segmentLookupRegex,
  STORED_SEGMENT_REGEX,
  TIMELINE_HISTORY_REGEX,
  WAL_SEGMENT_DIR_REGEX,
  WAL_SEGMENT_FILE_REGEX,
} from '../../../../../engine/repo/archive/archive-path.js';
import { compressExtension, compressTypeFromExtension, isCompressType } from '../../../../../engine/filter/compress-type.js';

const SHA = 'fc176140eafaa5a2c00f66ca84e7f19776359104';

describe('archive paths (repo-format 1.1)', () => {
  it('puts segments in the 16-character directory with checksum and extension', () => {
    expect(archiveSegmentPath('15-1', '000000010000000000000003', SHA, 'lz4')).toBe(
      `15-1/0000000100000000/000000010000000000000003-${SHA}.lz4`,
    );
    expect(archiveSegmentPath('15-1', '00000001000000000000001B', SHA, 'gz')).toBe(
      `15-1/0000000100000000/00000001000000000000001B-${SHA}.gz`,
    );
    expect(archiveSegmentName('000000010000000000000003', SHA, 'none')).toBe(`000000010000000000000003-${SHA}`);
    expect(archiveSegmentDir('15-1', '00000002000000000000001F')).toBe('15-1/0000000200000000');
  });

  it('names partial segments <segment>.partial-<sha1>.<ext>', () => {
    expect(archiveSegmentPath('15-1', '000000010000000000000005.partial', SHA, 'lz4')).toBe(
      `15-1/0000000100000000/000000010000000000000005.partial-${SHA}.lz4`,
    );
    expect(isPartialSegment('000000010000000000000005.partial')).toBe(true);
    expect(isPartialSegment('000000010000000000000005')).toBe(false);
  });

  it('puts .backup files in the 16-character directory and history files under the archive id, unchanged', () => {
    expect(archiveFilePath('15-1', '000000010000000000000003.00000028.backup')).toBe(
      '15-1/0000000100000000/000000010000000000000003.00000028.backup',
    );
    expect(archiveFilePath('15-1', '00000002.history')).toBe('15-1/00000002.history');
    expect(TIMELINE_HISTORY_REGEX.test('00000002.history')).toBe(true);
    expect(() => archiveFilePath('15-1', '../x')).toThrow(/not a plain file name/);
    expect(() => archiveFilePath('15-1', '')).toThrow(/not a plain file name/);
  });

  it('refuses names that are not segments or checksums that are not SHA-1', () => {
    expect(() => archiveSegmentName('00000002.history', SHA, 'lz4')).toThrow(/not a WAL segment name/);
    expect(() => archiveSegmentName('000000010000000000000003', 'ABC', 'lz4')).toThrow(/not a SHA-1/);
    expect(() => segmentLookupRegex('nope')).toThrow(/not a WAL segment name/);
  });

  it('recognises segments with pgBackRest ASCII-range classes', () => {
    expect(isWalSegment('000000010000000000000003')).toBe(true);
    expect(isWalSegment('000000010000000000000003.partial')).toBe(true);
    expect(isWalSegment('00000001000000000000000')).toBe(false);
    expect(isWalSegment('00000002.history')).toBe(false);
    expect(WAL_SEGMENT_DIR_REGEX.test('0000000100000000')).toBe(true);
    expect(WAL_SEGMENT_DIR_REGEX.test('000000010000000')).toBe(false);
  });

  it('looks up exactly the form asked for, as pgBackRest does, or both forms on request', () => {
    const exact = segmentLookupRegex('000000010000000000000005');
    expect(exact.source).toBe('^000000010000000000000005-[0-f]{40}(\\.gz|\\.lz4|\\.zst|\\.xz|\\.bz2)?$');
    expect(exact.test(`000000010000000000000005-${SHA}.lz4`)).toBe(true);
    expect(exact.test(`000000010000000000000005-${SHA}`)).toBe(true);
    expect(exact.test(`000000010000000000000005.partial-${SHA}.lz4`)).toBe(false);
    expect(exact.test(`000000010000000000000005-${SHA}.lz5`)).toBe(false);
    expect(exact.test(`000000010000000000000006-${SHA}.lz4`)).toBe(false);
    const partial = segmentLookupRegex('000000010000000000000005.partial');
    expect(partial.test(`000000010000000000000005.partial-${SHA}.lz4`)).toBe(true);
    expect(partial.test(`000000010000000000000005-${SHA}.lz4`)).toBe(false);
    const both = segmentLookupRegex('000000010000000000000005', { includePartial: true });
    expect(both.source).toBe('^000000010000000000000005(\\.partial)?-[0-f]{40}(\\.gz|\\.lz4|\\.zst|\\.xz|\\.bz2)?$');
    expect(both.test(`000000010000000000000005.partial-${SHA}.zst`)).toBe(true);
    expect(both.test(`000000010000000000000005-${SHA}.bz2`)).toBe(true);
  });

  it('parses stored names', () => {
    expect(parseStoredSegmentName(`000000010000000000000003-${SHA}.lz4`)).toEqual({
      segment: '000000010000000000000003',
      partial: false,
      sha1: SHA,
      compressType: 'lz4',
    });
    expect(parseStoredSegmentName(`000000010000000000000005.partial-${SHA}`)).toEqual({
      segment: '000000010000000000000005',
      partial: true,
      sha1: SHA,
      compressType: 'none',
    });
    expect(parseStoredSegmentName(`00000001000000000000001D-${SHA}.bz2`)?.compressType).toBe('bz2');
    expect(parseStoredSegmentName('000000010000000000000003.00000028.backup')).toBeUndefined();
    expect(parseStoredSegmentName('00000002.history')).toBeUndefined();
    expect(STORED_SEGMENT_REGEX.test(`000000010000000000000003-${SHA}.xz`)).toBe(true);
  });

  it('finds the archive min and max like info does (complete segments only, ignoring other files)', () => {
    const listing = new Map<string, string[]>([
      [
        '0000000200000000',
        [
          `000000020000000000000022-${SHA}.lz4`,
          `00000002000000000000001F-${SHA}.lz4`,
          `000000020000000000000023.partial-${SHA}.lz4`,
        ],
      ],
      [
        '0000000100000000',
        [
          '000000010000000000000003.00000028.backup',
          `00000001000000000000001D-${SHA}.bz2`,
          `000000010000000000000003-${SHA}.lz4`,
        ],
      ],
      ['0000000300000000', []],
      ['00000002.history', []],
    ]);
    expect(archiveRange(listing)).toEqual({ min: '000000010000000000000003', max: '000000020000000000000022' });
    expect(archiveRange(new Map())).toEqual({ min: null, max: null });
    expect(archiveRange(new Map([['0000000100000000', ['000000010000000000000003.00000028.backup']]]))).toEqual({
      min: null,
      max: null,
    });
    expect(WAL_SEGMENT_FILE_REGEX.test(`000000020000000000000023.partial-${SHA}.lz4`)).toBe(false);
  });
});

describe('compress types', () => {
  it('maps types and extensions', () => {
    expect(compressExtension('none')).toBe('');
    expect(compressExtension('zst')).toBe('.zst');
    expect(compressTypeFromExtension('x.gz')).toBe('gz');
    expect(compressTypeFromExtension('x')).toBe('none');
    expect(isCompressType('lz4')).toBe(true);
    expect(isCompressType('lzma')).toBe(false);
  });
});
