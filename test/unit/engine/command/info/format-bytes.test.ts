import { describe, expect, it } from 'vitest';

import { formatBytes } from '../../../../../engine/command/info/info-text.js';

describe('formatBytes prints sizes as pgBackRest 2.45 does (strSizeFormat)', () => {
  it.each([
    [0, '0B'],
    [1023, '1023B'],
    [1024, '1KB'],
    // the first decimal, truncated, is 0: the whole number alone
    [1126, '1KB'],
    [1127, '1.1KB'],
    // an exact tie rounds to the even digit, as C's printf does
    [1280, '1.2KB'],
    [1792, '1.8KB'],
    [7 * 1024 * 1024, '7MB'],
    [7_340_032 + 104_858, '7.1MB'],
    // 7.96MB: the decimal shown, rounded up to 8.0 (pgBackRest's quirk)
    [8_346_665, '8.0MB'],
    [1.5 * 1024 ** 3, '1.5GB'],
    // nothing above GB
    [2048 * 1024 ** 3, '2048GB'],
  ])('%d bytes: %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
