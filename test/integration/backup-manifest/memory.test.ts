import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { afterAll, expect, it } from 'vitest';

import { buildManifest } from '../../../engine/command/backup/manifest-build/build-manifest.js';
import { pgVersionByString } from '../../../engine/postgres/version-table.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

const DIRECTORIES = 100;
const FILES_PER_DIRECTORY = 1000;
const MiB = 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let root: string | undefined;

afterAll(() => {
  if (root !== undefined) removeDir(root);
});

/**
 * A synthetic data directory of 100,000 relation files (100 databases of 1,000): the heap the
 * manifest holds afterwards is the result itself, and the walk must not need much more on top of
 * it (one directory listing per level, not a tree). Heap figures are printed for the report;
 * nothing is timed.
 */
it('builds the manifest of 100,000 files in a heap of about the result', async () => {
  root = tempDir('manifest-memory', null);
  for (let dir = 0; dir < DIRECTORIES; dir++) {
    const path = join(root, 'base', String(16384 + dir));
    mkdirSync(path, { recursive: true });
    for (let file = 0; file < FILES_PER_DIRECTORY; file++) writeFileSync(join(path, String(20000 + file)), '');
  }
  const pgVersion = pgVersionByString('15');

  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed - before)), 2);
  let manifest;
  try {
    manifest = await buildManifest({ pgPath: root, pgVersion, catalogVersion: pgVersion.catalogVersion, online: true });
  } finally {
    clearInterval(sampler);
  }
  gc();
  const retained = process.memoryUsage().heapUsed - before;
  peak = Math.max(peak, retained);

  expect(manifest.files.size).toBe(DIRECTORIES * FILES_PER_DIRECTORY);
  expect(manifest.paths.size).toBe(DIRECTORIES + 2);
  console.log(
    `manifest of ${manifest.files.size} files: ${(retained / MiB).toFixed(1)} MiB retained ` +
      `(${Math.round(retained / manifest.files.size)} B/file), peak heap growth ${(peak / MiB).toFixed(1)} MiB`,
  );
  expect(retained).toBeLessThan(48 * MiB);
  // Sampled peak (the sampler can miss a short spike; garbage not yet collected counts too)
  expect(peak).toBeLessThan(retained + 48 * MiB);
});
