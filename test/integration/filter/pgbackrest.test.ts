import {
  chownSync,
  createReadStream,
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { compressFilter, decompressFilter } from '../../../engine/filter/compress.js';
import { compressExtension, compressTypeFromExtension, type CompressType } from '../../../engine/filter/compress-type.js';
import { copyFromRepo, runPipeline } from '../../../engine/filter/pipeline.js';
import { osUser } from '../../harness/os-user.js';
import { PgCluster } from '../../harness/pg-cluster.js';
import { run } from '../../harness/run.js';
import { tempDir } from '../../harness/temp-dir.js';

const EMPTY_SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';

interface ManifestFile {
  readonly name: string;
  readonly size: number;
  readonly checksum: string;
}

/** The [target:file] entries of a backup.manifest (values are JSON; zero-length files have no checksum). */
function manifestFiles(path: string): ManifestFile[] {
  const files: ManifestFile[] = [];
  let inFiles = false;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('[')) inFiles = line === '[target:file]';
    else if (inFiles && line.includes('=')) {
      const at = line.indexOf('=');
      const value = JSON.parse(line.slice(at + 1)) as { size: number; checksum?: string };
      files.push({ name: line.slice(0, at), size: value.size, checksum: value.checksum ?? EMPTY_SHA1 });
    }
  }
  return files;
}

/**
 * The oracle: real pgBackRest 2.45 backups (lz4 and gz) and archived WAL (gz) decode with our
 * filters to the checksums pgBackRest recorded; and files re-encoded by our filters restore with
 * pgbackrest, which checks every file's checksum.
 */
describe('pgBackRest 2.45 reads what we write and we read what it writes', () => {
  const postgres = osUser('postgres');
  let cluster: PgCluster;
  let work: string;
  let config: string;
  const repo = (): string => join(work, 'repo');
  const labels: Partial<Record<CompressType, string>> = {};

  const pgbackrest = (args: string[]): ReturnType<typeof run> =>
    run('pgbackrest', [`--config=${config}`, '--stanza=demo', ...args], { user: 'postgres', cwd: work, timeoutMs: 120_000 });

  beforeAll(async () => {
    work = tempDir('filter-pgbackrest');
    config = join(work, 'pgbackrest.conf');
    cluster = await PgCluster.create({ archiveCommand: `pgbackrest --config=${config} --stanza=demo archive-push %p` });
    writeFileSync(
      config,
      [
        '[global]',
        `repo1-path=${join(work, 'repo')}`,
        'repo1-retention-full=9',
        `lock-path=${join(work, 'lock')}`,
        `spool-path=${join(work, 'spool')}`,
        'log-level-console=warn',
        'log-level-file=off',
        'start-fast=y',
        'archive-timeout=60',
        '[demo]',
        `pg1-path=${cluster.dataDir}`,
        `pg1-socket-path=${cluster.socketDir}`,
        `pg1-port=${cluster.port}`,
        '',
      ].join('\n'),
    );
    chownSync(config, postgres.uid, postgres.gid);
    await cluster.start();
    await cluster.pgbench(['-i', '-s', '2', '-q']);
    await pgbackrest(['stanza-create']);
    for (const type of ['lz4', 'gz'] as const) {
      await pgbackrest(['--type=full', `--compress-type=${type}`, 'backup']);
      const all = readdirSync(join(repo(), 'backup', 'demo')).filter((name) => /^\d{8}-\d{6}F$/.test(name));
      labels[type] = all.sort().at(-1)!;
    }
  });

  afterAll(async () => {
    await cluster?.destroy();
  });

  for (const type of ['lz4', 'gz'] as const) {
    it(`decodes every file of a pgbackrest ${type} backup to the manifest's size and checksum`, async () => {
      const dir = join(repo(), 'backup', 'demo', labels[type]!);
      const files = manifestFiles(join(dir, 'backup.manifest'));
      expect(files.length).toBeGreaterThan(500);
      expect(files.some((file) => file.size > 8 * 1024 * 1024)).toBe(true);
      for (const file of files) {
        const stored = join(dir, `${file.name}${compressExtension(type)}`);
        if (type === 'lz4') expect(readFileSync(stored).subarray(0, 6).toString('hex')).toBe('04224d184440');
        expect(await copyFromRepo(createReadStream(stored), undefined, type, stored), file.name).toEqual({
          size: file.size,
          checksum: file.checksum,
        });
      }
    });
  }

  it('decodes archived WAL (gz) to the checksum in its name', async () => {
    const archive = join(repo(), 'archive', 'demo', '15-1');
    const segments = readdirSync(archive)
      .filter((dir) => /^[0-9A-F]{16}$/.test(dir))
      .flatMap((dir) => readdirSync(join(archive, dir)).map((name) => join(archive, dir, name)))
      .filter((path) => /-[0-9a-f]{40}\.gz$/.test(path));
    expect(segments.length).toBeGreaterThan(0);
    for (const segment of segments) {
      expect(compressTypeFromExtension(segment)).toBe('gz');
      const result = await copyFromRepo(createReadStream(segment), undefined, 'gz', segment);
      expect(result).toEqual({ size: 16 * 1024 * 1024, checksum: /-([0-9a-f]{40})\.gz$/.exec(segment)![1] });
    }
  });

  for (const type of ['lz4', 'gz'] as const) {
    it(`restores with pgbackrest after every ${type} file of the backup was re-encoded by pgkeep`, async () => {
      const dir = join(repo(), 'backup', 'demo', labels[type]!);
      const files = manifestFiles(join(dir, 'backup.manifest'));
      for (const file of files) {
        const stored = join(dir, `${file.name}${compressExtension(type)}`);
        const rewritten = `${stored}.pgkeep`;
        await runPipeline(
          createReadStream(stored),
          [decompressFilter(type, stored), compressFilter(type)],
          createWriteStream(rewritten),
        );
        chownSync(rewritten, postgres.uid, postgres.gid);
        renameSync(rewritten, stored);
      }
      // Really ours now: lz4 frames with independent blocks and no content checksum (pgBackRest
      // writes linked blocks and a content checksum, FLG 0x44).
      const big = files.reduce((a, b) => (b.size > a.size ? b : a));
      const sample = readFileSync(join(dir, `${big.name}${compressExtension(type)}`));
      expect(sample.subarray(0, 5).toString('hex')).toBe(type === 'lz4' ? '04224d1860' : '1f8b080000');

      const target = join(work, `restore-${type}`);
      mkdirSync(target, { mode: 0o700 });
      chownSync(target, postgres.uid, postgres.gid);
      await pgbackrest([`--set=${labels[type]}`, `--pg1-path=${target}`, 'restore']);
      // pgbackrest checked every file's checksum; check the biggest one ourselves too.
      const restored = join(target, big.name.replace(/^pg_data\//, ''));
      expect(await copyFromRepo(createReadStream(restored), undefined, 'none')).toEqual({
        size: big.size,
        checksum: big.checksum,
      });
    });
  }
});
