import { describe, expect, it } from 'vitest';

import { findProgram } from '../../../../engine/exec/find-program.js';

describe('findProgram', () => {
  it('finds a program on PATH, skipping empty entries and directories without it', () => {
    expect(findProgram('sh', '::/nonexistent:/bin')).toBe('/bin/sh');
    expect(findProgram('sh', '/nonexistent')).toBeUndefined();
    expect(findProgram('sh', '')).toBeUndefined();
  });

  it('checks a path as is', () => {
    expect(findProgram('/bin/sh', '')).toBe('/bin/sh');
    expect(findProgram('/nonexistent/zstd')).toBeUndefined();
    // A directory is not a program.
    expect(findProgram('/tmp')).toBeUndefined();
    expect(findProgram('tmp', '/')).toBeUndefined();
  });

  it('uses PATH by default, and an empty one when PATH is not set', () => {
    const path = process.env['PATH'];
    try {
      process.env['PATH'] = '/bin';
      expect(findProgram('sh')).toBe('/bin/sh');
      delete process.env['PATH'];
      expect(findProgram('sh')).toBeUndefined();
    } finally {
      process.env['PATH'] = path;
    }
  });
});
