import { createReadStream, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  pageChecksum,
  PageChecksumValidator,
  pageStoredChecksum,
  type PageChecksumResult,
} from '../../../engine/postgres/page-checksum.js';
import { PG_BIN, PgCluster } from '../../harness/pg-cluster.js';
import { run } from '../../harness/run.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

const PAGE = 8192;
const RELATION = /^[0-9]+(_(fsm|vm|init))?(\.([0-9]+))?$/;

/** Streams a relation segment file through the validator, re-reading failed pages from the file. */
async function validateFile(path: string): Promise<PageChecksumResult> {
  const segmentNo = Number(RELATION.exec(path.split('/').at(-1)!)?.[4] ?? 0);
  const validator = new PageChecksumValidator({ segmentNo });
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) validator.update(chunk as Buffer);
  const handle = await open(path, 'r');
  try {
    return await validator.finish({
      rereadPage: async (offset) => {
        const page = Buffer.alloc(PAGE);
        await handle.read(page, 0, PAGE, offset);
        return page;
      },
    });
  } finally {
    await handle.close();
  }
}

/** Every relation file of the cluster's databases and global directory (what a backup checks). */
function relationFiles(dataDir: string): string[] {
  const directories = [join(dataDir, 'global'), ...readdirSync(join(dataDir, 'base')).map((name) => join(dataDir, 'base', name))];
  return directories.flatMap((directory) =>
    readdirSync(directory)
      .filter((name) => RELATION.test(name))
      .map((name) => join(directory, name)),
  );
}

describe('page checksums of a real PostgreSQL 15 cluster', () => {
  const clusters: PgCluster[] = [];
  const directories: string[] = [];
  afterAll(async () => {
    for (const cluster of clusters) await cluster.destroy();
    for (const directory of directories) removeDir(directory);
  });

  it('validates every page of pgbench_accounts and of every relation file after a checkpoint, and finds a flipped byte', async () => {
    const cluster = await PgCluster.create();
    clusters.push(cluster);
    await cluster.start();
    await cluster.pgbench(['-i', '-s', '1', '-q']);
    await cluster.query('CHECKPOINT');

    const accounts = join(cluster.dataDir, String(await cluster.value("SELECT pg_relation_filepath('pgbench_accounts')")));
    const size = statSync(accounts).size;
    expect(size).toBeGreaterThan(10 * 1024 * 1024);
    const result = await validateFile(accounts);
    expect(result).toMatchObject({ valid: true, align: true, errorBlocks: [], size, pagesChanged: 0 });
    expect(result.pagesChecked + result.pagesNew).toBe(size / PAGE);
    expect(result.pagesChecked).toBe(
      Number(await cluster.value("SELECT relpages FROM pg_class WHERE relname = 'pgbench_accounts'")),
    );

    let pages = 0;
    for (const file of relationFiles(cluster.dataDir)) {
      const fileResult = await validateFile(file);
      expect(fileResult.errorBlocks, file).toEqual([]);
      expect(fileResult.valid, file).toBe(true);
      pages += fileResult.pagesChecked;
    }
    expect(pages).toBeGreaterThan(1000);

    // A copy with one flipped byte in block 10 and three in a row at 20-22.
    const copyDirectory = tempDir('page-copy');
    directories.push(copyDirectory);
    const copy = join(copyDirectory, 'accounts');
    const bytes = readFileSync(accounts);
    for (const block of [10, 20, 21, 22]) bytes[block * PAGE + 4000] ^= 0x40;
    writeFileSync(copy, bytes);
    const damaged = await validateFile(copy);
    expect(damaged).toMatchObject({ valid: false, align: true, errorBlocks: [10, 20, 21, 22], errorList: [10, [20, 22]] });
  });

  it('reports the same bad blocks and checksums as pg_checksums --check on a stopped copy', async () => {
    const cluster = await PgCluster.create();
    clusters.push(cluster);
    await cluster.start();
    await cluster.query('CREATE TABLE big AS SELECT g AS id, md5(g::text) AS filler FROM generate_series(1, 20000) AS g');
    const relation = String(await cluster.value("SELECT pg_relation_filepath('big')"));
    await cluster.stop();

    const copyRoot = tempDir('checksums-copy');
    directories.push(copyRoot);
    const copy = join(copyRoot, 'data');
    await run('cp', ['-a', cluster.dataDir, copy]);
    const file = join(copy, relation);
    const bytes = readFileSync(file);
    const damagedBlocks = [3, 7, 8, 9];
    for (const block of damagedBlocks) bytes[block * PAGE + 5000] ^= 0x01;
    writeFileSync(file, bytes);

    const checked = await run(join(PG_BIN, 'pg_checksums'), ['--check', '-D', copy], {
      user: 'postgres',
      cwd: copyRoot,
      check: false,
    });
    expect(checked.code).toBe(1);
    const reported = [
      ...checked.stderr.matchAll(/block (\d+): calculated checksum ([0-9A-F]+) but block contains ([0-9A-F]+)/g),
    ].map((match) => ({
      block: Number(match[1]),
      calculated: parseInt(match[2]!, 16),
      stored: parseInt(match[3]!, 16),
    }));
    expect(reported.map((entry) => entry.block)).toEqual(damagedBlocks);
    for (const entry of reported) {
      const page = bytes.subarray(entry.block * PAGE, (entry.block + 1) * PAGE);
      expect(pageChecksum(page, entry.block)).toBe(entry.calculated);
      expect(pageStoredChecksum(page)).toBe(entry.stored);
    }
    expect(checked.stdout).toMatch(new RegExp(`Bad checksums:\\s+${damagedBlocks.length}`));

    const ours = await validateFile(file);
    expect(ours.errorBlocks).toEqual(damagedBlocks);
    expect(ours.errorList).toEqual([3, [7, 9]]);
  });
});
