import { PgkeepError } from '../../error/pgkeep-error.js';
import { isBackupLabel } from '../backup/label.js';
import { compressExtension } from '../../filter/compress-type.js';
import type { Manifest, ManifestFile } from './manifest.js';

/** Extension of block-incremental repository files (no compression extension is added). */
export const BLOCK_INCR_EXT = '.pgbi';
export const BUNDLE_PATH = 'bundle';

/**
 * Where a file's data lives, relative to `backup/<stanza>/` (pgBackRest's backupFileRepoPath):
 * `<reference or label>/<name><ext>`, the extension being the set's compression type (`.pgbi` for a
 * block-incremental file with a map). A bundled file lives in `<reference or label>/bundle/<id>`,
 * at `bundleOffset` for `sizeRepo` bytes.
 */
export function manifestFileRepoPath(manifest: Manifest, file: ManifestFile): string {
  const label = file.reference ?? manifest.backup.label;
  if (file.bundleId !== undefined && file.bundleId !== 0) return `${label}/${BUNDLE_PATH}/${file.bundleId}`;
  const ext =
    file.blockIncrMapSize !== undefined && file.blockIncrMapSize !== 0
      ? BLOCK_INCR_EXT
      : compressExtension(manifest.options.compressType);
  return `${label}/${file.name}${ext}`;
}

const TABLESPACE_ROOT = /^pg_tblspc\/([0-9]+)(\/|$)/;

/**
 * Checks every name of the manifest before restore writes anything: file, path, link and target
 * names must be relative, without NUL, without empty, `.` or `..` components, and inside `pg_data`
 * or a tablespace `pg_tblspc/<oid>` that the manifest has a target for; file references must be
 * backup labels of the set. pgBackRest 2.45 joins names to the target path unchecked
 * (repo-format 8.4); pgkeep refuses instead (PathUnsafe naming the entry).
 */
export function validateManifestPaths(manifest: Manifest): void {
  const tablespaces = new Set<string>();
  for (const target of manifest.targets.values()) {
    checkName(target.name, 'backup:target');
    const match = TABLESPACE_ROOT.exec(target.name);
    if (match !== null) {
      if (target.name !== `pg_tblspc/${match[1]}`)
        unsafe(target.name, 'backup:target', 'a tablespace target must be pg_tblspc/<oid>');
      tablespaces.add(match[1]!);
    } else if (target.name !== 'pg_data' && !target.name.startsWith('pg_data/')) {
      unsafe(target.name, 'backup:target', 'is neither pg_data, inside pg_data, nor a tablespace');
    }
    if (
      target.file !== undefined &&
      (target.file === '' ||
        target.file.includes('/') ||
        target.file === '.' ||
        target.file === '..' ||
        target.file.includes('\0'))
    ) {
      unsafe(target.name, 'backup:target', `link file name '${target.file}' is not a plain file name`);
    }
  }
  if (!manifest.targets.has('pg_data')) unsafe('pg_data', 'backup:target', 'the pg_data target is missing');

  const inside = (name: string, section: string, allowTablespaceRoot: boolean) => {
    checkName(name, section);
    if (name === 'pg_data' || name.startsWith('pg_data/')) return;
    if (allowTablespaceRoot && name === 'pg_tblspc') return;
    const match = TABLESPACE_ROOT.exec(name);
    if (match === null) unsafe(name, section, 'is outside pg_data/ and pg_tblspc/<oid>/');
    if (!tablespaces.has(match![1]!)) unsafe(name, section, `tablespace ${match![1]} has no target in [backup:target]`);
    if (!allowTablespaceRoot && name === `pg_tblspc/${match![1]}`)
      unsafe(name, section, 'a file cannot replace a tablespace directory');
  };

  for (const name of manifest.paths.keys()) inside(name, 'target:path', true);
  for (const name of manifest.links.keys()) {
    checkName(name, 'target:link');
    if (!name.startsWith('pg_data/')) unsafe(name, 'target:link', 'a link must be inside pg_data/');
  }
  const labels = new Set(manifest.backup.reference);
  for (const file of manifest.files.values()) {
    inside(file.name, 'target:file', false);
    if (file.name === 'pg_data') unsafe(file.name, 'target:file', 'a file cannot replace the data directory');
    if (file.reference !== undefined && (!isBackupLabel(file.reference) || !labels.has(file.reference))) {
      unsafe(file.name, 'target:file', `reference '${file.reference}' is not a backup of this set`);
    }
  }
}

function checkName(name: string, section: string): void {
  if (name.includes('\0')) unsafe(name.replaceAll('\0', '\\0'), section, 'contains a NUL character');
  if (name.startsWith('/')) unsafe(name, section, 'is an absolute path');
  for (const component of name.split('/')) {
    if (component === '..') unsafe(name, section, "has a '..' component");
    if (component === '' || component === '.') unsafe(name, section, "has an empty or '.' component");
  }
}

function unsafe(name: string, section: string, reason: string): never {
  throw new PgkeepError('PathUnsafe', `manifest entry '${name}' in [${section}] ${reason}`, {
    hint: 'the manifest was damaged or forged: nothing was written; do not restore this backup',
  });
}
