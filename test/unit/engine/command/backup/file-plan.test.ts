import { describe, expect, it } from 'vitest';

import { planFiles, sourcePath, targetOf } from '../../../../../engine/command/backup/file-plan.js';
import type { BackupFileJob } from '../../../../../engine/command/backup/backup-file.js';
import type { Manifest, ManifestFile } from '../../../../../engine/repo/manifest/manifest.js';

function file(name: string, size: number, timestamp: number, extra: Partial<ManifestFile> = {}): ManifestFile {
  return {
    name,
    size,
    sizeRepo: size,
    timestamp,
    checksum: undefined,
    checksumRepo: undefined,
    reference: undefined,
    user: 'postgres',
    group: 'postgres',
    mode: 0o600,
    ...extra,
  };
}

function manifest(label: string, copyStart: number, files: ManifestFile[]): Manifest {
  return {
    backrestVersion: '2.45',
    backup: {
      label,
      type: 'full',
      reference: [label],
      timestampCopyStart: copyStart,
      timestampStart: copyStart - 5,
      timestampStop: copyStart + 5,
      blockIncr: false,
      bundle: false,
      bundleRaw: false,
    },
    db: { id: 1, systemId: 1n, version: '15', catalogVersion: 202209061, controlVersion: 1300 },
    options: { archiveCheck: true, archiveCopy: false, compressType: 'lz4', hardlink: false, online: true },
    targets: new Map([
      ['pg_data', { name: 'pg_data', type: 'path', path: '/data' }],
      ['pg_tblspc/16384', { name: 'pg_tblspc/16384', type: 'link', path: '/ts1', tablespaceId: 16384, tablespaceName: 'ts1' }],
    ]),
    cipherPass: undefined,
    databases: new Map(),
    annotation: undefined,
    files: new Map(files.map((entry) => [entry.name, entry])),
    links: new Map(),
    paths: new Map(),
    extra: new Map(),
    blockIncremental: false,
  };
}

const stored = (name: string, size: number, timestamp: number) =>
  file(name, size, timestamp, {
    checksum: 'a'.repeat(40),
    checksumRepo: 'b'.repeat(40),
    sizeRepo: Math.ceil(size / 10),
    checksumPage: true,
  });

function plan(current: Manifest, prior?: Manifest, delta = false) {
  return planFiles({
    manifest: current,
    prior,
    resumed: undefined,
    backupPath: '/repo/backup/main/L',
    compressType: 'lz4',
    compressLevel: 1,
    delta,
    bufferSize: 1048576,
    pageChecksumSegment: (name) => (name.startsWith('pg_data/base/') ? 0 : undefined),
  });
}

describe('planFiles', () => {
  it('holds back only the files dated in the second the manifest was built (or later) until the copy start', () => {
    const current = manifest('F', 1000, [
      file('pg_data/old', 10, 998),
      file('pg_data/last-second', 10, 999),
      file('pg_data/copy-start', 10, 1000),
    ]);
    const readyAt = Date.now() + 400;
    const jobs = planFiles({
      manifest: current,
      prior: undefined,
      resumed: undefined,
      backupPath: '/repo/backup/main/F',
      compressType: 'lz4',
      compressLevel: 1,
      delta: false,
      bufferSize: 1048576,
      pageChecksumSegment: () => undefined,
      copyStartReadyAt: readyAt,
    }).jobs;
    const notBefore = Object.fromEntries(jobs.map((job) => [job.key, (job.data as BackupFileJob).notBefore]));
    expect(notBefore).toEqual({ 'pg_data/old': undefined, 'pg_data/last-second': readyAt, 'pg_data/copy-start': readyAt });
    // Offline backups (no database clock) hold nothing back.
    expect(plan(current).jobs.map((job) => (job.data as BackupFileJob).notBefore)).toEqual([undefined, undefined, undefined]);
  });

  it('copies every file of a full backup, one queue per target, with page checks for relation files', () => {
    const result = plan(
      manifest('F', 1000, [
        file('pg_data/PG_VERSION', 3, 900),
        file('pg_data/base/5/16384', 8192, 900),
        file('pg_tblspc/16384/PG_15_202209061/5/16390', 8192, 900),
      ]),
    );
    expect(result.referenced).toBe(0);
    expect(result.jobs.map((job) => [job.key, job.queue, job.size])).toEqual([
      ['pg_data/PG_VERSION', 'pg_data', 3],
      ['pg_data/base/5/16384', 'pg_data', 8192],
      ['pg_tblspc/16384/PG_15_202209061/5/16390', 'pg_tblspc/16384', 8192],
    ]);
    const data = result.jobs[2]!.data as BackupFileJob;
    expect(data.source).toBe('/ts1/PG_15_202209061/5/16390');
    expect(data.target).toBe('/repo/backup/main/L/pg_tblspc/16384/PG_15_202209061/5/16390.lz4');
    expect((result.jobs[1]!.data as BackupFileJob).pageChecksum).toEqual({ segmentNo: 0 });
    expect((result.jobs[0]!.data as BackupFileJob).pageChecksum).toBeUndefined();
  });

  it('references files whose size and timestamp are unchanged, copying their checksums and the holding label', () => {
    const prior = manifest('F', 1000, [
      stored('pg_data/a', 100, 900),
      { ...stored('pg_data/b', 100, 900), reference: 'OLDER' },
      stored('pg_data/c', 100, 900),
      stored('pg_data/empty', 0, 900),
    ]);
    const current = manifest('I', 2000, [
      file('pg_data/a', 100, 900),
      file('pg_data/b', 100, 900),
      file('pg_data/c', 101, 1900),
      file('pg_data/empty', 0, 1950),
      file('pg_data/new', 5, 1900),
    ]);
    const result = plan(current, prior);
    expect(result.jobs.map((job) => job.key)).toEqual(['pg_data/c', 'pg_data/new']);
    expect(result.referenced).toBe(3);
    expect(current.files.get('pg_data/a')).toMatchObject({
      reference: 'F',
      checksum: 'a'.repeat(40),
      sizeRepo: 10,
      checksumPage: true,
    });
    expect(current.files.get('pg_data/b')!.reference).toBe('OLDER'); // the backup that really holds it
    expect(current.files.get('pg_data/empty')!.reference).toBe('F'); // empty files are always referenced
  });

  it('does not trust a prior timestamp from the second the prior manifest was built: compares by checksum', () => {
    const prior = manifest('F', 1000, [stored('pg_data/hot', 100, 999)]);
    const current = manifest('I', 2000, [file('pg_data/hot', 100, 999)]);
    const result = plan(current, prior);
    expect(result.jobs.map((job) => job.key)).toEqual(['pg_data/hot']);
    expect((result.jobs[0]!.data as BackupFileJob).delta).toEqual({ checksum: 'a'.repeat(40), size: 100 });
  });

  it.each([
    ['a timestamp in the future', file('pg_data/a', 100, 2500)],
    ['an older timestamp than in the prior backup', file('pg_data/a', 100, 800)],
    ['another size under the same timestamp', file('pg_data/a', 120, 900)],
  ])('switches delta on for %s', (_what, changed) => {
    const prior = manifest('F', 1000, [stored('pg_data/a', 100, 900), stored('pg_data/b', 100, 900)]);
    const result = plan(manifest('I', 2000, [changed, file('pg_data/b', 100, 900)]), prior);
    expect(result.delta).toBe(true);
    // with delta, an unchanged-looking file is hashed against the prior checksum instead of trusted
    expect((result.jobs.find((job) => job.key === 'pg_data/b')!.data as BackupFileJob).delta).toEqual({
      checksum: 'a'.repeat(40),
      size: 100,
    });
  });

  it('knows targets and source paths', () => {
    const current = manifest('F', 1000, []);
    expect(targetOf('pg_data/base/1/1')).toBe('pg_data');
    expect(targetOf('pg_tblspc/16384/PG_15_202209061/1/2')).toBe('pg_tblspc/16384');
    expect(sourcePath(current, 'pg_data/global/pg_control')).toBe('/data/global/pg_control');
  });
});
