import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { StanzaRepo } from '../../../../../engine/command/common/stanza-repo.js';
import { inProcessWorker } from '../../../../../engine/exec/in-process.js';
import type { WorkerSource } from '../../../../../engine/exec/pool.js';
import type { WritableCompressType } from '../../../../../engine/filter/compress-type.js';
import { copyToRepo } from '../../../../../engine/filter/pipeline.js';
import { handler } from '../../../../../engine/command/verify/verify-file.js';
import { VERIFY_FILE_HANDLER } from '../../../../../engine/command/verify/measure.js';
import { archiveSegmentPath } from '../../../../../engine/repo/archive/archive-path.js';
import { newArchiveInfo, saveArchiveInfo, type ArchiveInfo } from '../../../../../engine/repo/info/archive-info.js';
import {
  addBackup,
  backupInfoEntryFromManifest,
  newBackupInfo,
  saveBackupInfo,
  type BackupInfo,
} from '../../../../../engine/repo/info/backup-info.js';
import { saveManifestFile, type Manifest, type ManifestFile } from '../../../../../engine/repo/manifest/manifest.js';
import { manifestFileRepoPath } from '../../../../../engine/repo/manifest/manifest-paths.js';
import type { BackupType } from '../../../../../engine/repo/backup/label.js';
import { PosixStorage } from '../../../../../engine/storage/posix/posix-storage.js';

export const SYSTEM_ID = 7710482956265128591n;
/** Small segments keep the tests fast, and prove the size comes from the WAL headers (not a 16 MiB default). */
export const SEGMENT_SIZE = 1024 * 1024;

/** A WAL segment of SEGMENT_SIZE bytes with a PostgreSQL 15 long page header; the rest depends on the name. */
export function makeSegment(name: string, size = SEGMENT_SIZE): Buffer {
  const data = Buffer.alloc(size);
  const timeline = parseInt(name.slice(0, 8), 16);
  const segmentNo = parseInt(name.slice(8, 16), 16) * (0x100000000 / SEGMENT_SIZE) + parseInt(name.slice(16, 24), 16);
  data.writeUInt16LE(0xd110, 0);
  data.writeUInt16LE(0x0002, 2);
  data.writeUInt32LE(timeline, 4);
  data.writeBigUInt64LE(BigInt(segmentNo) * BigInt(SEGMENT_SIZE), 8);
  data.writeBigUInt64LE(SYSTEM_ID, 24);
  data.writeUInt32LE(SEGMENT_SIZE, 32);
  data.writeUInt32LE(8192, 36);
  data.write(name.repeat(100), 64);
  return data;
}

export const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

/** In-process workers running the real verify-file handler. */
export const inProcess: WorkerSource = { spawn: inProcessWorker({ [VERIFY_FILE_HANDLER]: handler as never }) };

export interface FakeFile {
  readonly name: string;
  readonly content?: Buffer;
  /** Keep the prior backup's entry (a reference to where it is stored). */
  readonly reference?: boolean;
}

export interface FakeBackup {
  readonly label: string;
  readonly type?: BackupType;
  readonly prior?: Manifest;
  readonly files: readonly FakeFile[];
  readonly compressType?: WritableCompressType;
  readonly bundle?: boolean;
  readonly archiveStart?: string;
  readonly archiveStop?: string;
  /** Add it to backup.info (default true). */
  readonly inBackupInfo?: boolean;
}

/**
 * A repository on disk with one stanza, written with pgkeep's own repo code: archive.info,
 * backup.info, WAL segments, backups with their manifests. Tests damage it and verify it.
 */
export class FakeRepo {
  readonly root = mkdtempSync(join(tmpdir(), 'pgkeep-verify-'));
  readonly storage = new PosixStorage({ basePath: this.root });
  readonly repo: StanzaRepo = { index: 1, storage: this.storage, stanza: 'main', cipherPass: undefined };
  readonly archiveInfo: ArchiveInfo = newArchiveInfo(SYSTEM_ID, '15');
  readonly backupInfo: BackupInfo = newBackupInfo({
    systemId: SYSTEM_ID,
    version: '15',
    catalogVersion: 202209061,
    controlVersion: 1300,
  });

  static async create(): Promise<FakeRepo> {
    const repo = new FakeRepo();
    await repo.saveInfo();
    return repo;
  }

  async saveInfo(): Promise<void> {
    await saveArchiveInfo(this.storage, 'archive/main/archive.info', this.archiveInfo);
    await saveBackupInfo(this.storage, 'backup/main/backup.info', this.backupInfo);
  }

  path(relative: string): string {
    return join(this.root, relative);
  }

  read(relative: string): Buffer {
    return readFileSync(this.path(relative));
  }

  write(relative: string, data: Buffer | string): void {
    writeFileSync(this.path(relative), data);
  }

  remove(relative: string): void {
    rmSync(this.path(relative), { recursive: true, force: true });
  }

  /** Flips one bit in the middle of a file. */
  flip(relative: string, at?: number): void {
    const data = this.read(relative);
    const offset = at ?? Math.floor(data.length / 2);
    data[offset] = data[offset]! ^ 0x01;
    this.write(relative, data);
  }

  truncate(relative: string): void {
    const data = this.read(relative);
    this.write(relative, data.subarray(0, Math.floor(data.length / 2)));
  }

  /** Archives a segment (or `<name>.partial`) as archive-push does; returns its path in the repository. */
  async pushWal(
    name: string,
    options: { compressType?: WritableCompressType; content?: Buffer; archiveId?: string } = {},
  ): Promise<string> {
    const content = options.content ?? makeSegment(name.slice(0, 24));
    const compressType = options.compressType ?? 'lz4';
    const path = `archive/main/${archiveSegmentPath(options.archiveId ?? '15-1', name, sha1(content), compressType)}`;
    await copyToRepo(content, (data) => this.storage.write(path, data), { compressType });
    return path;
  }

  /** The stored file of a segment (the first one, should there be several). */
  async walPath(name: string, archiveId = '15-1'): Promise<string> {
    const dir = `archive/main/${archiveId}/${name.slice(0, 16)}`;
    const stored = (await this.storage.list(dir)).find((entry) => entry.name.startsWith(name))!;
    return `${dir}/${stored.name}`;
  }

  async pushWals(first: number, last: number, timeline = 1): Promise<string[]> {
    const paths = [];
    for (let segment = first; segment <= last; segment++) paths.push(await this.pushWal(segmentName(timeline, segment)));
    return paths;
  }

  /** Writes a backup's files, its manifest (and copy), and its backup.info entry. */
  async addBackup(spec: FakeBackup): Promise<Manifest> {
    const compressType = spec.compressType ?? 'lz4';
    const bundle = spec.bundle ?? false;
    const prior = spec.prior;
    const manifest = fakeManifest(spec, compressType);
    const bundleData: Buffer[] = [];
    let bundleOffset = 0;
    for (const fake of spec.files) {
      if (fake.reference === true) {
        const priorFile = prior!.files.get(fake.name)!;
        manifest.files.set(fake.name, { ...priorFile, reference: priorFile.reference ?? prior!.backup.label });
        continue;
      }
      const content = fake.content ?? Buffer.from(`content of ${fake.name}\n`.repeat(50));
      const file: ManifestFile = {
        name: fake.name,
        size: 0,
        sizeRepo: 0,
        timestamp: 1795236709,
        checksum: undefined,
        checksumRepo: undefined,
        reference: undefined,
        user: 'postgres',
        group: 'postgres',
        mode: 0o600,
      };
      const stored: Buffer[] = [];
      const written = await copyToRepo(
        content,
        async (data) => {
          for await (const chunk of data) stored.push(chunk);
        },
        { compressType },
      );
      file.size = written.size;
      file.sizeRepo = written.repoSize;
      file.checksum = written.size === 0 ? undefined : written.checksum;
      file.checksumRepo = compressType === 'none' ? undefined : written.repoChecksum;
      if (bundle) {
        if (written.size === 0) {
          file.sizeRepo = 0;
          file.checksumRepo = undefined;
        } else {
          file.bundleId = 1;
          if (bundleOffset > 0) file.bundleOffset = bundleOffset;
          bundleData.push(...stored);
          bundleOffset += written.repoSize;
        }
      }
      manifest.files.set(fake.name, file);
      if (!bundle) await this.storage.write(`backup/main/${manifestFileRepoPath(manifest, file)}`, Buffer.concat(stored));
    }
    if (bundleData.length > 0) await this.storage.write(`backup/main/${spec.label}/bundle/1`, Buffer.concat(bundleData));
    await saveManifestFile(this.storage, `backup/main/${spec.label}/backup.manifest`, manifest);
    if (spec.inBackupInfo ?? true) {
      addBackup(this.backupInfo, backupInfoEntryFromManifest(manifest));
      await this.saveInfo();
    }
    return manifest;
  }

  destroy(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function segmentName(timeline: number, segmentNo: number): string {
  const perXLogId = 0x100000000 / SEGMENT_SIZE;
  const hex = (value: number) => value.toString(16).toUpperCase().padStart(8, '0');
  return hex(timeline) + hex(Math.floor(segmentNo / perXLogId)) + hex(segmentNo % perXLogId);
}

function fakeManifest(spec: FakeBackup, compressType: WritableCompressType): Manifest {
  const prior = spec.prior;
  const references = prior === undefined ? [] : [...prior.backup.reference];
  return {
    backrestVersion: '2.45',
    backup: {
      label: spec.label,
      type: spec.type ?? (prior === undefined ? 'full' : 'incr'),
      prior: prior?.backup.label,
      reference: [...references, spec.label],
      archiveStart: spec.archiveStart,
      archiveStop: spec.archiveStop,
      lsnStart: spec.archiveStart === undefined ? undefined : '0/1000028',
      lsnStop: spec.archiveStop === undefined ? undefined : '0/1000100',
      timestampCopyStart: 1795236710,
      timestampStart: 1795236709,
      timestampStop: 1795236712,
      blockIncr: false,
      bundle: spec.bundle ?? false,
      bundleRaw: false,
    },
    db: { catalogVersion: 202209061, controlVersion: 1300, id: 1, systemId: SYSTEM_ID, version: '15' },
    options: {
      archiveCheck: true,
      archiveCopy: false,
      backupStandby: false,
      bufferSize: 1048576,
      checksumPage: true,
      compressType,
      compressLevel: compressType === 'gz' ? 6 : compressType === 'lz4' ? 1 : 0,
      compressLevelNetwork: 3,
      delta: false,
      hardlink: false,
      online: true,
      processMax: 1,
    },
    targets: new Map([['pg_data', { name: 'pg_data', type: 'path' as const, path: '/var/lib/postgresql/15/main' }]]),
    cipherPass: undefined,
    databases: new Map([['postgres', { name: 'postgres', id: 5, lastSystemId: 4 }]]),
    annotation: undefined,
    files: new Map(),
    links: new Map(),
    paths: new Map([['pg_data', { name: 'pg_data', user: 'postgres', group: 'postgres', mode: 0o700 }]]),
    extra: new Map(),
    blockIncremental: false,
  };
}

/** Stored file name of a backup file (its path in the repository). */
export function backupFilePath(manifest: Manifest, name: string): string {
  return `backup/main/${manifestFileRepoPath(manifest, manifest.files.get(name)!)}`;
}
