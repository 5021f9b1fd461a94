import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { errorTable } from '../../../engine/error/error-table.js';
import { PGKEEP_VERSION } from '../../../engine/version.js';

describe('constants kept in step', () => {
  it('PGKEEP_VERSION is package.json version', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(PGKEEP_VERSION).toBe(pkg.version);
  });

  it('error codes are unique and fit in an exit status', () => {
    const codes = Object.values(errorTable).map((entry) => entry.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toBeGreaterThan(1);
    for (const code of codes) expect(code).toBeLessThan(256);
  });
});
