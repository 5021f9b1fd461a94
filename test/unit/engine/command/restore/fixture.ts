import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { RestoreRequest } from '../../../../../engine/command/restore/request.js';
import { handler } from '../../../../../engine/command/restore/restore-file.js';
import type { WorkerSource } from '../../../../../engine/exec/pool.js';
import { compressExtension, type CompressType, type WritableCompressType } from '../../../../../engine/filter/compress-type.js';
import { copyToRepo } from '../../../../../engine/filter/pipeline.js';
import { crc32c } from '../../../../../engine/postgres/crc32c.js';
import { pgVersionByString } from '../../../../../engine/postgres/version-table.js';
import { newArchiveInfo, saveArchiveInfo } from '../../../../../engine/repo/info/archive-info.js';
import {
  addBackup,
  backupInfoEntryFromManifest,
  newBackupInfo,
  saveBackupInfo,
  type BackupInfo,
} from '../../../../../engine/repo/info/backup-info.js';
import { saveManifestFile, type Manifest, type ManifestFile } from '../../../../../engine/repo/manifest/manifest.js';
import { PosixStorage } from '../../../../../engine/storage/posix/posix-storage.js';
import { groupName, userName } from '../../../../../engine/storage/posix/user-group.js';

export const SYSTEM_ID = 7710482956265128591n;
export const UID = process.geteuid?.() ?? 0;
export const USER = userName(UID) ?? 'root';
export const GROUP = groupName(process.getegid?.() ?? 0) ?? 'root';
export const IN_PROCESS: WorkerSource = { inProcess: { 'restore-file': handler as never } };

/** The first 512 bytes of a PostgreSQL 15 pg_control with a valid CRC (and zeros to 8192). */
export function pgControl(walSegmentSize = 16 * 1024 * 1024): Buffer {
  const facts = pgVersionByString('15');
  const at = facts.control;
  const data = Buffer.alloc(8192);
  data.writeBigUInt64LE(SYSTEM_ID, at.systemId);
  data.writeUInt32LE(facts.controlVersion, at.controlVersion);
  data.writeUInt32LE(facts.catalogVersion, at.catalogVersion);
  data.writeUInt32LE(6, at.state);
  data.writeUInt32LE(1, at.timeline);
  data.writeUInt32LE(8192, at.blockSize);
  data.writeUInt32LE(131072, at.relSegSize);
  data.writeUInt32LE(8192, at.walBlockSize);
  data.writeUInt32LE(walSegmentSize, at.walSegmentSize);
  data.writeUInt32LE(1, at.dataChecksumVersion);
  data.writeUInt32LE(crc32c(data, 0, at.crc), at.crc);
  return data;
}

export interface FileSpec {
  readonly content: string | Buffer;
  readonly mode?: number;
  readonly timestamp?: number;
  /** Stored in this earlier backup (it must have stored the same content). */
  readonly reference?: string;
}

export interface BackupSpec {
  readonly label: string;
  readonly type?: 'full' | 'diff' | 'incr';
  readonly prior?: string;
  /** Manifest name -> content. pg_data/global/pg_control and PG_VERSION are added unless given. */
  readonly files: Readonly<Record<string, FileSpec | string>>;
  /** Extra directories (their parents are added). */
  readonly paths?: readonly string[];
  readonly tablespaces?: readonly { readonly oid: number; readonly name: string; readonly path: string }[];
  /** Non-tablespace links: pg_data/<name> -> destination (file links need `file`). */
  readonly links?: readonly { readonly name: string; readonly destination: string; readonly file?: boolean }[];
  readonly compressType?: WritableCompressType;
  readonly online?: boolean;
  readonly archiveStart?: string;
  readonly archiveStop?: string;
  readonly lsnStart?: string;
  readonly lsnStop?: string;
  readonly timestampStart?: number;
  readonly timestampStop?: number;
  readonly timestampCopyStart?: number;
  readonly pgPath?: string;
  readonly walSegmentSize?: number;
}

/** A repository of one stanza in a temporary directory, written with pgkeep's own writers. */
export class TestRepo {
  readonly root: string;
  readonly repoPath: string;
  readonly storage: PosixStorage;
  readonly stanza = 'main';
  private info: BackupInfo;
  readonly manifests = new Map<string, Manifest>();

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'pgkeep-restore-unit-'));
    this.repoPath = join(this.root, 'repo');
    this.storage = new PosixStorage({ basePath: this.repoPath });
    const facts = pgVersionByString('15');
    this.info = newBackupInfo({
      systemId: SYSTEM_ID,
      version: '15',
      catalogVersion: facts.catalogVersion,
      controlVersion: facts.controlVersion,
    });
  }

  get repo() {
    return { index: 1, storage: this.storage, stanza: this.stanza, cipherPass: undefined };
  }

  async init(): Promise<this> {
    await saveArchiveInfo(this.storage, `archive/${this.stanza}/archive.info`, newArchiveInfo(SYSTEM_ID, '15'));
    await saveBackupInfo(this.storage, `backup/${this.stanza}/backup.info`, this.info);
    return this;
  }

  /** A directory for targets (restored data directories, tablespaces). */
  dir(name: string): string {
    const path = join(this.root, name);
    mkdirSync(path, { recursive: true, mode: 0o700 });
    return path;
  }

  async backup(spec: BackupSpec): Promise<Manifest> {
    const compressType: CompressType = spec.compressType ?? 'lz4';
    const online = spec.online ?? false;
    const files = new Map<string, ManifestFile>();
    const all: Record<string, FileSpec | string> = {
      'pg_data/PG_VERSION': '15\n',
      'pg_data/global/pg_control': { content: pgControl(spec.walSegmentSize) },
      ...spec.files,
    };
    const paths = new Set(['pg_data', 'pg_data/global', ...(spec.paths ?? [])]);
    const reference = [...(spec.prior === undefined ? [] : (this.manifests.get(spec.prior)?.backup.reference ?? [])), spec.label];
    for (const [name, value] of Object.entries(all)) {
      const file = typeof value === 'string' ? { content: value } : value;
      const content = Buffer.from(file.content);
      const checksum = createHash('sha1').update(content).digest('hex');
      let sizeRepo: number;
      let checksumRepo: string | undefined;
      if (file.reference === undefined) {
        const stored = `backup/${this.stanza}/${spec.label}/${name}${compressExtension(compressType)}`;
        const written = await copyToRepo(content, (data) => this.storage.write(stored, data), {
          compressType: compressType as WritableCompressType,
        });
        sizeRepo = written.repoSize;
        checksumRepo = compressType === 'none' ? undefined : written.repoChecksum;
      } else {
        const earlier = this.manifests.get(file.reference)!.files.get(name)!;
        sizeRepo = earlier.sizeRepo;
        checksumRepo = earlier.checksumRepo;
      }
      files.set(name, {
        name,
        size: content.length,
        sizeRepo,
        timestamp: file.timestamp ?? 1_700_000_000,
        checksum: content.length === 0 ? undefined : checksum,
        checksumRepo,
        reference: file.reference,
        user: USER,
        group: GROUP,
        mode: file.mode ?? 0o600,
      });
      for (
        let parent = name.slice(0, name.lastIndexOf('/'));
        parent.includes('/') || parent === 'pg_data';
        parent = parent.slice(0, parent.lastIndexOf('/'))
      ) {
        if (!parent.startsWith('pg_tblspc/') || parent.split('/').length > 2) paths.add(parent);
        if (parent === 'pg_data') break;
      }
    }
    const targets = new Map<string, Manifest['targets'] extends Map<string, infer T> ? T : never>();
    targets.set('pg_data', { name: 'pg_data', type: 'path', path: spec.pgPath ?? '/var/lib/postgresql/15/main' });
    const links = new Map<string, Manifest['links'] extends Map<string, infer T> ? T : never>();
    for (const tablespace of spec.tablespaces ?? []) {
      const name = `pg_tblspc/${tablespace.oid}`;
      targets.set(name, {
        name,
        type: 'link',
        path: tablespace.path,
        tablespaceId: tablespace.oid,
        tablespaceName: tablespace.name,
      });
      links.set(`pg_data/${name}`, { name: `pg_data/${name}`, destination: tablespace.path, user: USER, group: GROUP });
      paths.add('pg_tblspc').add(name).add(`${name}/PG_15_202209061`).add('pg_data/pg_tblspc');
    }
    for (const link of spec.links ?? []) {
      const slash = link.destination.lastIndexOf('/');
      targets.set(link.name, {
        name: link.name,
        type: 'link',
        path: link.file === true ? link.destination.slice(0, slash) : link.destination,
        file: link.file === true ? link.destination.slice(slash + 1) : undefined,
      });
      links.set(link.name, { name: link.name, destination: link.destination, user: USER, group: GROUP });
      if (link.file !== true) paths.add(link.name);
    }
    const manifest: Manifest = {
      backrestVersion: '2.45',
      backup: {
        label: spec.label,
        type: spec.type ?? 'full',
        prior: spec.prior,
        reference,
        archiveStart: online ? (spec.archiveStart ?? '000000010000000000000002') : undefined,
        archiveStop: online ? (spec.archiveStop ?? spec.archiveStart ?? '000000010000000000000002') : undefined,
        lsnStart: online ? (spec.lsnStart ?? '0/2000028') : undefined,
        lsnStop: online ? (spec.lsnStop ?? '0/2000100') : undefined,
        timestampCopyStart: spec.timestampCopyStart ?? 1_800_000_000,
        timestampStart: spec.timestampStart ?? 1_800_000_000,
        timestampStop: spec.timestampStop ?? 1_800_000_010,
        blockIncr: false,
        bundle: false,
        bundleRaw: false,
      },
      db: { catalogVersion: 202209061, controlVersion: 1300, id: 1, systemId: SYSTEM_ID, version: '15' },
      options: { archiveCheck: online, archiveCopy: false, compressType, hardlink: false, online, checksumPage: true },
      targets,
      cipherPass: undefined,
      databases: new Map([['postgres', { name: 'postgres', id: 5, lastSystemId: 4 }]]),
      annotation: undefined,
      files,
      links,
      paths: new Map([...paths].map((name) => [name, { name, user: USER, group: GROUP, mode: 0o700 }])),
      extra: new Map(),
      blockIncremental: false,
    };
    await saveManifestFile(this.storage, `backup/${this.stanza}/${spec.label}/backup.manifest`, manifest);
    this.manifests.set(spec.label, manifest);
    addBackup(this.info, backupInfoEntryFromManifest(manifest));
    await saveBackupInfo(this.storage, `backup/${this.stanza}/backup.info`, this.info);
    return manifest;
  }

  /** Stores a WAL segment (uncompressed) under its name and SHA-1, as archive-push does. */
  segment(name: string, content: Buffer): void {
    const sha1 = createHash('sha1').update(content).digest('hex');
    const dir = join(this.repoPath, 'archive', this.stanza, '15-1', name.slice(0, 16));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}-${sha1}`), content);
  }

  history(timeline: number, text: string): void {
    const dir = join(this.repoPath, 'archive', this.stanza, '15-1');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${timeline.toString(16).toUpperCase().padStart(8, '0')}.history`), text);
  }

  /** A restore request with pgBackRest's defaults. */
  request(pgPath: string, overrides: Partial<RestoreRequest> = {}): RestoreRequest {
    return {
      stanza: this.stanza,
      repos: [this.repo],
      pgPath,
      type: 'default',
      typeGiven: false,
      targetExclusive: false,
      tablespaceMap: {},
      linkMap: {},
      linkAll: false,
      dbInclude: [],
      dbExclude: [],
      delta: false,
      force: false,
      recoveryOptions: {},
      archiveMode: 'preserve',
      archiveGetCommand: '/usr/bin/pgkeep --stanza=main archive-get',
      processMax: 1,
      jobRetry: 0,
      jobRetryIntervalMs: 0,
      bufferSize: 1024 * 1024,
      ...overrides,
    };
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
