import type { Job } from '../../exec/job.js';
import { compressExtension, type WritableCompressType } from '../../filter/compress-type.js';
import { log } from '../../log/logger.js';
import type { Manifest, ManifestFile } from '../../repo/manifest/manifest.js';
import type { BackupFileJob } from './backup-file.js';

export interface FilePlanInput {
  readonly manifest: Manifest;
  /** The prior backup's manifest (diff/incr). */
  readonly prior: Manifest | undefined;
  /** The interrupted backup being resumed. */
  readonly resumed: Manifest | undefined;
  /** Absolute path of the new backup's directory in the repository. */
  readonly backupPath: string;
  readonly compressType: WritableCompressType;
  readonly compressLevel: number;
  readonly delta: boolean;
  readonly bufferSize: number;
  /** Relation files to validate: the file's segment number, or undefined. */
  readonly pageChecksumSegment: (name: string) => number | undefined;
  /**
   * This machine's clock (epoch ms) when the database clock reaches the copy start, for online
   * backups: files dated in the second the manifest was built, or later, are not read before it
   * (BackupFileJob.notBefore). Undefined: no file waits.
   */
  readonly copyStartReadyAt?: number | undefined;
}

export interface FilePlan {
  /** Files to read, largest first per tablespace queue. */
  readonly jobs: Job[];
  /** Files unchanged since the prior backup: referenced, not read. */
  readonly referenced: number;
  /** Whether delta was switched on because timestamps cannot be trusted. */
  readonly delta: boolean;
}

/**
 * Decides, for every file of a new backup, whether it is read or referenced (repo-format 7):
 * without delta a file is referenced when its size and timestamp equal the prior backup's; with
 * delta it is read and hashed, and referenced when its checksum still matches. Conditions that
 * make timestamps untrustworthy switch delta on, as in pgBackRest: a file dated in the future, an
 * older timestamp than in the prior backup, or another size under the same timestamp.
 *
 * pgkeep adds one rule: a prior entry whose timestamp falls in the second its own manifest was
 * built (or later) may have been written again in that same second after the copy, so it is
 * checked by content rather than trusted.
 */
export function planFiles(input: FilePlanInput): FilePlan {
  const { manifest, prior } = input;
  const copyStart = manifest.backup.timestampCopyStart;
  let delta = input.delta;
  if (!delta) {
    for (const file of manifest.files.values()) {
      const was = prior?.files.get(file.name);
      const reason =
        file.timestamp > copyStart
          ? `file '${file.name}' has a timestamp in the future`
          : was !== undefined && file.timestamp < was.timestamp
            ? `file '${file.name}' has an older timestamp than in the prior backup`
            : was !== undefined && file.timestamp === was.timestamp && file.size !== was.size
              ? `file '${file.name}' changed size without a new timestamp`
              : undefined;
      if (reason !== undefined) {
        log.warn(`${reason}: delta enabled (files are compared by checksum)`);
        delta = true;
        break;
      }
    }
  }

  const jobs: Job[] = [];
  let referenced = 0;
  const priorTrustedBefore = (prior?.backup.timestampCopyStart ?? 0) - 1;
  for (const file of manifest.files.values()) {
    const was = prior?.files.get(file.name);
    if (was !== undefined && file.size === was.size) {
      const sameTime = file.timestamp === was.timestamp && was.timestamp < priorTrustedBefore;
      if (file.size === 0 || (!delta && sameTime)) {
        reference(file, was, prior!.backup.label);
        referenced++;
        continue;
      }
    }
    const checkDelta = was !== undefined && file.size === was.size && (delta || file.timestamp === was.timestamp);
    jobs.push(fileJob(input, file, checkDelta ? was : undefined));
  }
  return { jobs, referenced, delta };
}

/** The file is stored in an earlier backup: take its checksums and repository size from there. */
export function reference(file: ManifestFile, was: ManifestFile, priorLabel: string): void {
  file.size = was.size;
  file.sizeRepo = was.sizeRepo;
  file.checksum = was.checksum;
  file.checksumRepo = was.checksumRepo;
  file.reference = was.reference ?? priorLabel;
  if (was.checksumPage === undefined) delete file.checksumPage;
  else file.checksumPage = was.checksumPage;
  if (was.checksumPageError === undefined) delete file.checksumPageError;
  else file.checksumPageError = was.checksumPageError;
  // A file in a pgBackRest bundle is found by bundle id and offset in the backup that holds it.
  if (was.bundleId === undefined) delete file.bundleId;
  else file.bundleId = was.bundleId;
  if (was.bundleOffset === undefined) delete file.bundleOffset;
  else file.bundleOffset = was.bundleOffset;
}

function fileJob(input: FilePlanInput, file: ManifestFile, was: ManifestFile | undefined): Job {
  const target = targetOf(file.name);
  const segmentNo = input.pageChecksumSegment(file.name);
  const recent = file.timestamp >= input.manifest.backup.timestampCopyStart - 1;
  const data: BackupFileJob = {
    source: sourcePath(input.manifest, file.name),
    target: `${input.backupPath}/${file.name}${compressExtension(input.compressType)}`,
    size: file.size,
    compressType: input.compressType,
    compressLevel: input.compressLevel,
    cipherPass: input.manifest.cipherPass,
    pageChecksum: segmentNo === undefined ? undefined : { segmentNo },
    delta: was?.checksum === undefined ? undefined : { checksum: was.checksum, size: was.size },
    resume: resumeCheck(input.resumed, file),
    ignoreMissing: file.name !== 'pg_data/global/pg_control',
    bufferSize: input.bufferSize,
    notBefore: recent ? input.copyStartReadyAt : undefined,
  };
  return { key: file.name, handler: 'backup-file', size: file.size, queue: target, data };
}

/** A file the interrupted backup already stored, unchanged since: the worker checks its bytes. */
function resumeCheck(resumed: Manifest | undefined, file: ManifestFile): BackupFileJob['resume'] {
  const was = resumed?.files.get(file.name);
  if (was === undefined || was.reference !== undefined || was.checksum === undefined) return undefined;
  if (was.size !== file.size || was.timestamp !== file.timestamp) return undefined;
  return { checksum: was.checksum, size: was.size, repoChecksum: was.checksumRepo ?? was.checksum, repoSize: was.sizeRepo };
}

/** `pg_data` or `pg_tblspc/<oid>`: the target a manifest name belongs to (one job queue each). */
export function targetOf(name: string): string {
  return name.startsWith('pg_tblspc/') ? name.split('/', 2).join('/') : 'pg_data';
}

/** Where a manifest file is on disk: under the data directory or its tablespace's location. */
export function sourcePath(manifest: Manifest, name: string): string {
  const target = targetOf(name);
  const base = manifest.targets.get(target)!.path;
  return `${base}${name.slice(target.length)}`;
}
