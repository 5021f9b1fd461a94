import { describe, expect, it } from 'vitest';

import { LinkCheck } from '../../../../../../engine/command/backup/manifest-build/link-check.js';
import { pathAbsolute, pathBase, pathDirectory } from '../../../../../../engine/command/backup/manifest-build/link-path.js';
import type { ManifestTarget } from '../../../../../../engine/repo/manifest/manifest.js';

const link = (name: string, path: string, file?: string): ManifestTarget => ({ name, type: 'link', path, file });

function errorOf(action: () => void): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('LinkCheck', () => {
  it('ignores the pg_data path target and names tablespaces by their target name', () => {
    const check = new LinkCheck('/pg/data');
    check.check({ name: 'pg_data', type: 'path', path: '/pg/data' });
    check.check(link('pg_tblspc/16384', '/srv/ts'));
    expect(errorOf(() => check.check(link('pg_tblspc/16385', '/srv/ts/inner')))).toBe(
      "link 'pg_tblspc/16385' (/srv/ts/inner) destination is a subdirectory of link 'pg_tblspc/16384' (/srv/ts)",
    );
  });

  it('compares whole path components: /pg/data2 is not inside /pg/data', () => {
    const check = new LinkCheck('/pg/data');
    expect(errorOf(() => check.check(link('pg_data/a', '/pg/data2')))).toBeUndefined();
    expect(errorOf(() => check.check(link('pg_data/b', '/pg/data/x')))).toBe("link 'b' destination '/pg/data/x' is in PGDATA");
  });

  it('lets file links share a directory and skips them when looking for a parent or child directory link', () => {
    const check = new LinkCheck('/pg/data');
    check.check(link('pg_data/f1', '/etc/pg', 'a.conf'));
    check.check(link('pg_data/f2', '/etc/pg', 'b.conf'));
    check.check(link('pg_data/f3', '/etc/pg/sub', 'c.conf'));
    check.check(link('pg_data/d1', '/etc/pg/sub/deeper'));
    check.check(link('pg_data/d2', '/opt/other'));
    expect(errorOf(() => check.check(link('pg_data/f4', '/etc/pg', 'a.conf')))).toBe(
      "link 'f4' (/etc/pg/a.conf) destination is the same file as link 'f1' (/etc/pg/a.conf)",
    );
    expect(errorOf(() => check.check(link('pg_data/d3', '/etc')))).toBe(
      "link 'd1' (/etc/pg/sub/deeper) destination is a subdirectory of link 'd3' (/etc)",
    );
  });
});

describe('link paths', () => {
  it('splits and resolves destinations as pgBackRest does', () => {
    expect(['/a/b', '/b', 'b', 'a/b/c', '/a//b'].map(pathDirectory)).toEqual(['/a', '/', '', 'a/b', '/a/']);
    expect(['/a/b', 'b', '/'].map(pathBase)).toEqual(['b', 'b', '']);
    expect(pathAbsolute('../x/./y', '/pg/data/sub')).toBe('/pg/data/x/y');
    expect(pathAbsolute('/kept//as/written/', '/pg')).toBe('/kept//as/written/');
  });
});
