import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The real pgBackRest 2.45 files of the design notes (repo-format.md, section 14), kept with the
 * tests so they run from any checkout.
 */
export const EXAMPLES_DIR = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'pgbackrest-2.45-examples');

export function example(name: string): Buffer {
  return readFileSync(join(EXAMPLES_DIR, name));
}

export function exampleText(name: string): string {
  return example(name).toString('utf8');
}

/** Every example in the info-file format (info files and manifests, plain or decrypted). */
export const INFO_FORMAT_EXAMPLES = readdirSync(EXAMPLES_DIR)
  .filter((name) => /\.info|\.manifest/.test(name))
  .sort();

export const MANIFEST_EXAMPLES = INFO_FORMAT_EXAMPLES.filter((name) => name.includes('.manifest'));
export const ARCHIVE_INFO_EXAMPLES = INFO_FORMAT_EXAMPLES.filter((name) => name.includes('archive.info'));
export const BACKUP_INFO_EXAMPLES = INFO_FORMAT_EXAMPLES.filter((name) => name.includes('backup.info'));
