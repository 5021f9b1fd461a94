import { describe, expect, it } from 'vitest';

import { isPgkeepError, type PgkeepError } from '../../../../../engine/error/pgkeep-error.js';
import { manifestFileRepoPath, validateManifestPaths } from '../../../../../engine/repo/manifest/manifest-paths.js';
import { parseManifest, type Manifest, type ManifestFile } from '../../../../../engine/repo/manifest/manifest.js';
import { example, MANIFEST_EXAMPLES } from '../examples.js';

function caught(action: () => unknown): PgkeepError {
  try {
    action();
  } catch (error) {
    if (isPgkeepError(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}

const load = (name: string) => parseManifest(example(name), name);

function addFile(manifest: Manifest, name: string, extra: Partial<ManifestFile> = {}): void {
  manifest.files.set(name, {
    name,
    size: 1,
    sizeRepo: 1,
    timestamp: 1,
    checksum: undefined,
    checksumRepo: undefined,
    reference: undefined,
    user: 'postgres',
    group: 'postgres',
    mode: 0o600,
    ...extra,
  });
}

describe('manifestFileRepoPath', () => {
  it('names the file in the backup that holds it, with the extension of the set', () => {
    const incr = load('incr-lz4.backup.manifest');
    expect(manifestFileRepoPath(incr, incr.files.get('pg_data/PG_VERSION')!)).toBe('20261121-045159F/pg_data/PG_VERSION.lz4');
    expect(manifestFileRepoPath(incr, incr.files.get('pg_data/backup_label')!)).toBe(
      '20261121-045159F_20261121-045207I/pg_data/backup_label.lz4',
    );
    expect(manifestFileRepoPath(incr, incr.files.get('pg_tblspc/16384/PG_15_202209061/5/16390')!)).toMatch(
      /^20261121-045159F.*\/pg_tblspc\/16384\/PG_15_202209061\/5\/16390\.lz4$/,
    );
    const none = load('full-none.backup.manifest');
    expect(manifestFileRepoPath(none, none.files.get('pg_data/PG_VERSION')!)).toBe('20261121-050114F/pg_data/PG_VERSION');
  });

  it('names the bundle for bundled files and .pgbi for block-incremental files', () => {
    const bundled = load('full-bundle-blockincr.backup.manifest');
    expect(manifestFileRepoPath(bundled, bundled.files.get('pg_data/PG_VERSION')!)).toBe('20261121-045219F/bundle/1');
    expect(manifestFileRepoPath(bundled, bundled.files.get('pg_data/base/1/1249')!)).toBe('20261121-045219F/bundle/2');
    const outside = [...bundled.files.values()].find(
      (file) => file.bundleId === undefined && file.blockIncrMapSize !== undefined,
    );
    if (outside !== undefined) expect(manifestFileRepoPath(bundled, outside)).toBe(`20261121-045219F/${outside.name}.pgbi`);
    expect(manifestFileRepoPath(bundled, bundled.files.get('pg_data/backup_label')!)).toBe(
      '20261121-045219F/pg_data/backup_label.lz4',
    );
    const { bundleId: _bundleId, ...unbundled } = bundled.files.get('pg_data/base/1/1249')!;
    expect(manifestFileRepoPath(bundled, unbundled)).toBe('20261121-045219F/pg_data/base/1/1249.pgbi');
  });
});

describe('validateManifestPaths', () => {
  it.each(MANIFEST_EXAMPLES)('accepts the real manifest %s', (name) => {
    expect(() => validateManifestPaths(load(name))).not.toThrow();
  });

  it.each([
    ['pg_data/../../etc/passwd', "manifest entry 'pg_data/../../etc/passwd' in [target:file] has a '..' component"],
    ['/etc/passwd', "manifest entry '/etc/passwd' in [target:file] is an absolute path"],
    ['pg_data/a\0b', "manifest entry 'pg_data/a\\0b' in [target:file] contains a NUL character"],
    ['pg_data//x', "manifest entry 'pg_data//x' in [target:file] has an empty or '.' component"],
    ['pg_data/./x', "manifest entry 'pg_data/./x' in [target:file] has an empty or '.' component"],
    ['pg_data/x/', "manifest entry 'pg_data/x/' in [target:file] has an empty or '.' component"],
    ['etc/passwd', "manifest entry 'etc/passwd' in [target:file] is outside pg_data/ and pg_tblspc/<oid>/"],
    ['pg_database/x', "manifest entry 'pg_database/x' in [target:file] is outside pg_data/ and pg_tblspc/<oid>/"],
    ['pg_tblspc/x/y', "manifest entry 'pg_tblspc/x/y' in [target:file] is outside pg_data/ and pg_tblspc/<oid>/"],
    ['pg_tblspc', "manifest entry 'pg_tblspc' in [target:file] is outside pg_data/ and pg_tblspc/<oid>/"],
    [
      'pg_tblspc/99999/PG_15/1/1',
      "manifest entry 'pg_tblspc/99999/PG_15/1/1' in [target:file] tablespace 99999 has no target in [backup:target]",
    ],
    ['pg_tblspc/16384', "manifest entry 'pg_tblspc/16384' in [target:file] a file cannot replace a tablespace directory"],
    ['pg_data', "manifest entry 'pg_data' in [target:file] a file cannot replace the data directory"],
  ])('refuses the file name %j', (name, message) => {
    const manifest = load('full-lz4.backup.manifest');
    addFile(manifest, name);
    const error = caught(() => validateManifestPaths(manifest));
    expect(error.errorName).toBe('PathUnsafe');
    expect(error.message).toBe(message);
    expect(error.hint).toMatch(/nothing was written/);
  });

  it('refuses unsafe paths, links and targets', () => {
    const path = load('full-lz4.backup.manifest');
    path.paths.set('pg_data/../x', { name: 'pg_data/../x', user: 'postgres', group: 'postgres', mode: 0o700 });
    expect(caught(() => validateManifestPaths(path)).message).toBe(
      "manifest entry 'pg_data/../x' in [target:path] has a '..' component",
    );

    const link = load('full-lz4.backup.manifest');
    link.links.set('pg_tblspc/1', { name: 'pg_tblspc/1', destination: '/x', user: 'postgres', group: 'postgres' });
    expect(caught(() => validateManifestPaths(link)).message).toBe(
      "manifest entry 'pg_tblspc/1' in [target:link] a link must be inside pg_data/",
    );

    const target = load('full-lz4.backup.manifest');
    target.targets.set('pg_tblspc/1/x', { name: 'pg_tblspc/1/x', type: 'link', path: '/x' });
    expect(caught(() => validateManifestPaths(target)).message).toBe(
      "manifest entry 'pg_tblspc/1/x' in [backup:target] a tablespace target must be pg_tblspc/<oid>",
    );

    const outside = load('full-lz4.backup.manifest');
    outside.targets.set('etc', { name: 'etc', type: 'link', path: '/etc' });
    expect(caught(() => validateManifestPaths(outside)).message).toBe(
      "manifest entry 'etc' in [backup:target] is neither pg_data, inside pg_data, nor a tablespace",
    );

    const fileLink = load('full-lz4.backup.manifest');
    fileLink.targets.set('pg_data/postgresql.conf', {
      name: 'pg_data/postgresql.conf',
      type: 'link',
      path: '/etc/pg',
      file: '../shadow',
    });
    expect(caught(() => validateManifestPaths(fileLink)).message).toBe(
      "manifest entry 'pg_data/postgresql.conf' in [backup:target] link file name '../shadow' is not a plain file name",
    );

    const noBase = load('full-lz4.backup.manifest');
    noBase.targets.delete('pg_data');
    expect(caught(() => validateManifestPaths(noBase)).message).toBe(
      "manifest entry 'pg_data' in [backup:target] the pg_data target is missing",
    );

    const tablespacePath = load('full-lz4.backup.manifest');
    tablespacePath.paths.set('pg_tblspc/5', { name: 'pg_tblspc/5', user: 'postgres', group: 'postgres', mode: 0o700 });
    expect(caught(() => validateManifestPaths(tablespacePath)).message).toBe(
      "manifest entry 'pg_tblspc/5' in [target:path] tablespace 5 has no target in [backup:target]",
    );
  });

  it('refuses references that are not backups of the set', () => {
    for (const reference of ['../../../tmp', '20261121-045159X', '20261121-040000F']) {
      const manifest = load('incr-lz4.backup.manifest');
      addFile(manifest, 'pg_data/x', { reference });
      expect(caught(() => validateManifestPaths(manifest)).message).toBe(
        `manifest entry 'pg_data/x' in [target:file] reference '${reference}' is not a backup of this set`,
      );
    }
  });
});
