import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { Config } from '../../config/config.js';
import { runJobs } from '../../exec/pool.js';
import { ProgressMeter, type ProgressSnapshot } from '../../exec/progress-meter.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import {
  compressExtension,
  compressLevel,
  compressTypeFromExtension,
  isWritableCompressType,
  type WritableCompressType,
} from '../../filter/compress-type.js';
import { newCipherPass } from '../../filter/cipher.js';
import type { FilterSpec } from '../../filter/filter-spec.js';
import { copyToRepo, runPipeline } from '../../filter/pipeline.js';
import { log } from '../../log/logger.js';
import type { PgClient } from '../../postgres/client.js';
import { pageErrorWarning } from '../../postgres/page-checksum.js';
import { readPgControl } from '../../postgres/pg-control.js';
import { findLatestBackupLabel, nextBackupLabel, type BackupType } from '../../repo/backup/label.js';
import { currentArchiveId } from '../../repo/info/archive-info.js';
import type { BackupInfo } from '../../repo/info/backup-info.js';
import { currentPgEntry, describePg } from '../../repo/info/info-pg.js';
import { PGBACKREST_VERSION } from '../../repo/info/info-codec.js';
import type { StanzaLock } from '../../repo/lock/lock.js';
import type { Manifest, ManifestFile } from '../../repo/manifest/manifest.js';
import { checkArchiveConfig } from '../common/archive-config.js';
import { findPrimary, type PgSession } from '../common/pg-clusters.js';
import { checkDataDirectory } from '../common/pg-identity.js';
import { defaultPgIndex } from '../common/pg-index.js';
import { withStanzaLock } from '../common/stanza-lock.js';
import {
  backupStanzaPath,
  checkStanzaMatches,
  loadStanzaArchiveInfo,
  loadStanzaBackupInfo,
  stanzaRepo,
  type StanzaRepo,
} from '../common/stanza-repo.js';
import { defaultRepoIndex } from '../common/storages.js';
import { JOBS_SENT_AHEAD, LARGE_FILE_JOB, workerSpawner } from '../common/workers.js';
import type { BackupFileResult } from './backup-file.js';
import { planFiles, reference, sourcePath } from './file-plan.js';
import { recordBackup, saveCheckpoint } from './finish.js';
import { buildManifest } from './manifest-build/build-manifest.js';
import { pageChecksumSegment } from './manifest-build/relation-files.js';
import { expireStanza, logRetentionWarnings } from '../expire/expire.js';
import { formatBytes, formatPercent } from '../info/info-text.js';
import { choosePrior, findResumable, loadBackupManifest } from './prior.js';
import { backupSegments, waitForArchivedSegments } from './wal-wait.js';

export interface BackupProgress extends ProgressSnapshot {
  readonly filesDone: number;
  readonly filesTotal: number;
}

export interface BackupRunOptions {
  readonly signal: AbortSignal;
  /** Called at most every 250 ms while files are copied, and once at the end of the copy. */
  readonly onProgress?: (progress: BackupProgress) => void;
}

export interface BackupResult {
  readonly label: string;
  readonly type: BackupType;
  /** Database bytes in the backup, and bytes read and stored by this run. */
  readonly size: number;
  readonly bytesCopied: number;
  readonly repoSize: number;
  readonly filesCopied: number;
  readonly filesReferenced: number;
  readonly filesResumed: number;
  readonly pageErrors: number;
  readonly resumed: boolean;
}

/**
 * One backup, from choosing its prior to recording it in backup.info (the data flow in
 * ARCHITECTURE.md). The lock, the database session and the worker pool are all released
 * whatever happens; an interrupted backup leaves a checkpoint the next one resumes.
 */
export async function runBackup(config: Config, options: BackupRunOptions): Promise<BackupResult> {
  const repo = stanzaRepo(config, defaultRepoIndex(config));
  return withStanzaLock(config, 'backup', (lock) => backupUnderLock(config, repo, lock, options));
}

async function backupUnderLock(
  config: Config,
  repo: StanzaRepo,
  lock: StanzaLock,
  options: BackupRunOptions,
): Promise<BackupResult> {
  logRetentionWarnings(config);
  // Online, the backup is of the primary, found among pg1 ... pgN (a standby is never backed up
  // instead); offline, of the default pgN.
  const primary = config.boolean('online') ? await findPrimary(config) : undefined;
  try {
    return await backupOf(config, repo, lock, options, primary);
  } finally {
    await primary?.client.close();
  }
}

async function backupOf(
  config: Config,
  repo: StanzaRepo,
  lock: StanzaLock,
  options: BackupRunOptions,
  primary: PgSession | undefined,
): Promise<BackupResult> {
  const backupInfo = await loadStanzaBackupInfo(repo);
  const archiveInfo = await loadStanzaArchiveInfo(repo);
  // The files copied must be the running cluster's, whose backup start and stop are called.
  if (primary !== undefined) await checkDataDirectory(config, primary);
  const pgPath = config.string('pg-path', primary?.index ?? defaultPgIndex(config));
  const control = await readPgControl(pgPath);
  const pg = { systemId: control.systemId, version: control.version.version };
  const what = `PostgreSQL ${describePg(pg.systemId, pg.version)}`;
  checkStanzaMatches(what, pg, currentPgEntry(backupInfo), repo, 'BackupMismatch');
  checkStanzaMatches(what, pg, currentPgEntry(archiveInfo), repo, 'ArchiveMismatch');

  const online = config.boolean('online');
  if (!online && existsSync(join(pgPath, 'postmaster.pid'))) {
    if (!config.boolean('force')) {
      throw new PgkeepError(
        'PgRunning',
        `--no-online was given but '${join(pgPath, 'postmaster.pid')}' exists: PostgreSQL seems to be running`,
        {
          hint: 'stop the cluster for an offline backup, or pass --force if postmaster.pid is left over from a crash',
        },
      );
    }
    log.warn(
      '--no-online passed and postmaster.pid exists but --force was passed so backup will continue though it looks like PostgreSQL is running and the backup will probably not be consistent',
    );
  }

  const { type, prior } = choosePrior(backupInfo, config.string('type') as BackupType);
  const priorManifest = prior === undefined ? undefined : await loadBackupManifest(repo, prior.label, backupInfo.cipherPass);
  if (priorManifest !== undefined)
    log.info(`last backup label = ${priorManifest.backup.label}, version = ${priorManifest.backrestVersion}`);
  if (priorManifest?.blockIncremental === true) {
    throw new PgkeepError(
      'FeatureNotSupported',
      `prior backup ${prior!.label} is a block incremental backup, which pgkeep cannot build on`,
      {
        hint: 'take a full backup with --type=full',
      },
    );
  }
  const compressType = chooseCompressType(config, type, priorManifest);
  const level = compressLevel(compressType, config.numberOr('compress-level'));
  // As pgBackRest: page checks by default only online (an offline cluster's pages are all settled
  // and checked by PostgreSQL itself), and only when the cluster has data checksums.
  let checksumPage = config.booleanOr('checksum-page') ?? (online && control.pageChecksum);
  if (checksumPage && !control.pageChecksum) {
    // Every page would fail a check the cluster never wrote checksums for.
    log.warn('checksum-page option set to true but checksums are not enabled on the cluster, resetting to false');
    checksumPage = false;
  }

  const resumable = await findResumable(
    repo,
    backupInfo,
    { type, prior: prior?.label, compressType, online, systemId: pg.systemId, version: pg.version },
    config.boolean('resume'),
  );

  const client = primary?.client;
  // Archiving that cannot work fails the backup now rather than after archive-timeout (the client is the primary's).
  if (client !== undefined && config.boolean('archive-check'))
    await checkArchiveConfig(client, { stanza: repo.stanza, modeCheck: config.boolean('archive-mode-check') });
  const startTime = client === undefined ? Date.now() / 1000 : await client.now();
  const latest = await findLatestBackupLabel(repo.storage, backupStanzaPath(repo.stanza));
  const label = resumable?.label ?? nextBackupLabel(type, prior?.label, startTime, latest);
  if (resumable !== undefined)
    log.warn(`resumable backup ${label} of same type exists -- invalid files will be removed then the backup will resume`);

  if (client !== undefined)
    log.info(
      `execute non-exclusive backup start: backup begins after the ${config.boolean('start-fast') ? 'requested immediate' : 'next regular'} checkpoint completes`,
    );
  const start =
    client === undefined
      ? undefined
      : await client.backupStart(`pgkeep backup ${label}`, config.boolean('start-fast'), {
          archiveCheck: config.boolean('archive-check'),
        });
  if (start !== undefined) log.info(`backup start archive = ${start.walSegmentName}, lsn = ${start.lsn}`);
  // Archiving must work, or the backup fails in the end: pgBackRest waits for the segment written
  // before the start to be archived before it copies anything. pgkeep copies meanwhile and
  // fails the backup as soon as the wait times out, so a working archive adds no wait.
  const archiving =
    start?.walSegmentCheck === undefined
      ? undefined
      : {
          repo,
          archiveId: currentArchiveId(archiveInfo),
          segment: start.walSegmentCheck,
          prior: start.walSegmentCheck !== start.walSegmentName,
          timeoutMs: config.number('archive-timeout') * 1000,
        };
  const tablespaces =
    client === undefined ? undefined : (await client.tablespaces()).filter((ts) => ts.location !== null && ts.location !== '');
  const databases = client === undefined ? [] : await client.databases();

  const built = await buildManifest({
    pgPath,
    pgVersion: control.version,
    catalogVersion: control.catalogVersion,
    online,
    tablespaces: tablespaces?.map((ts) => ({ oid: ts.oid, name: ts.name })),
    exclude: config.list('exclude'),
  });
  // As pgBackRest: an online backup without pg_control (an --exclude took it) could never be restored
  if (online && !built.files.has('pg_data/global/pg_control'))
    throw new PgkeepError('FileMissing', 'global/pg_control must be present in all online backups', {
      hint: "remove the --exclude that names 'global/pg_control' or a directory holding it",
    });
  const { copyStart, readyAt } = await copyStartTime(client);

  const current = currentPgEntry(backupInfo);
  const manifest: Manifest = {
    backrestVersion: PGBACKREST_VERSION,
    backup: {
      label,
      type,
      prior: prior?.label,
      reference: [...(priorManifest?.backup.reference ?? []), label],
      archiveStart: start?.walSegmentName,
      lsnStart: start?.lsn,
      timestampCopyStart: copyStart,
      timestampStart: Math.floor(startTime),
      timestampStop: Math.floor(startTime),
      blockIncr: false,
      bundle: false,
      bundleRaw: false,
    },
    db: {
      id: current.id,
      systemId: current.systemId,
      version: current.version,
      catalogVersion: current.catalogVersion,
      controlVersion: current.controlVersion,
    },
    options: {
      archiveCheck: online && config.boolean('archive-check'),
      archiveCopy: online && config.boolean('archive-copy'),
      backupStandby: false,
      bufferSize: config.number('buffer-size'),
      checksumPage,
      compressType,
      compressLevel: level,
      compressLevelNetwork: config.number('compress-level-network'),
      delta: config.boolean('delta'),
      hardlink: false,
      online,
      processMax: config.number('process-max'),
    },
    targets: built.targets,
    cipherPass: backupFilesPass(backupInfo, priorManifest, resumable?.manifest),
    databases: new Map(databases.map((db) => [db.name, { name: db.name, id: db.oid, lastSystemId: db.lastSystemId }])),
    annotation: Object.keys(config.hash('annotation')).length === 0 ? undefined : { ...config.hash('annotation') },
    files: built.files,
    links: built.links,
    paths: built.paths,
    extra: new Map(),
    blockIncremental: false,
  };

  const backupPath = repo.storage.resolve(`${backupStanzaPath(repo.stanza)}/${label}`);
  const plan = planFiles({
    manifest,
    prior: priorManifest,
    resumed: resumable?.manifest,
    backupPath,
    compressType,
    compressLevel: level,
    delta: config.boolean('delta'),
    bufferSize: config.number('buffer-size'),
    pageChecksumSegment: checksumPage ? pageChecksumSegment : () => undefined,
    copyStartReadyAt: readyAt,
  });
  manifest.options.delta = plan.delta;
  await saveCheckpoint(repo, manifest, backupInfo.cipherPass);

  const copied = await whileArchivingChecked(archiving, options.signal, (signal) =>
    copyFiles(config, repo, lock, manifest, plan.jobs, priorManifest, { ...options, signal }, backupInfo.cipherPass),
  );
  await syncDirectories(repo, backupPath);
  // As pgBackRest: each file not copied names the backup that holds it (in the manifest's order).
  if (log.enabled('detail'))
    for (const file of manifest.files.values())
      if (file.reference !== undefined) log.detail(`reference ${file.name} to ${file.reference}`);

  if (client !== undefined) {
    log.info('execute non-exclusive backup stop and wait for all WAL segments to archive');
    const stop = await client.backupStop();
    manifest.backup.archiveStop = stop.walSegmentName;
    manifest.backup.lsnStop = stop.lsn;
    log.info(`backup stop archive = ${stop.walSegmentName}, lsn = ${stop.lsn}`);
    manifest.backup.timestampStop = Math.floor(await client.now());
    await storeFile(repo, manifest, backupPath, 'pg_data/backup_label', stop.backupLabel, compressType, level);
    if (stop.tablespaceMap !== null)
      await storeFile(repo, manifest, backupPath, 'pg_data/tablespace_map', stop.tablespaceMap, compressType, level);
  } else {
    manifest.backup.timestampStop = Math.floor(Date.now() / 1000);
  }

  if (manifest.options.archiveCheck) {
    const segments = backupSegments(manifest.backup.archiveStart!, manifest.backup.archiveStop!, control.walSegmentSize);
    log.info(`check archive for segment(s) ${segments[0]}:${segments.at(-1)}`);
    const stored = await waitForArchivedSegments(
      repo,
      currentArchiveId(archiveInfo),
      segments,
      config.number('archive-timeout') * 1000,
      options.signal,
    );
    if (manifest.options.archiveCopy)
      await copyWal(repo, manifest, backupPath, stored, compressType, level, archiveInfo.cipherPass);
  }

  log.info(`new backup label = ${label}`);
  await recordBackup(repo, manifest, backupInfo, archiveInfo);
  let size = 0;
  let repoSize = 0;
  let sizeDelta = 0;
  for (const file of manifest.files.values()) {
    size += file.size;
    repoSize += file.sizeRepo;
    if (file.reference === undefined) sizeDelta += file.size;
  }
  log.info(`${type} backup size = ${formatBytes(sizeDelta)}, file total = ${manifest.files.size}`);
  // Retention runs under the lock this backup holds, as pgBackRest's backup does.
  if (config.boolean('expire-auto')) await expireStanza(config, { signal: options.signal });
  return {
    label,
    type,
    size,
    repoSize,
    ...copied,
    filesReferenced: plan.referenced + copied.filesMatched,
    resumed: resumable !== undefined,
  };
}

interface ArchivingCheck {
  readonly repo: StanzaRepo;
  readonly archiveId: string;
  /** The segment PostgreSQL was writing when the backup started (`prior` when the start switched to the next). */
  readonly segment: string;
  readonly prior: boolean;
  readonly timeoutMs: number;
}

/**
 * Runs the copy while the archive is checked for the segment written before the backup started:
 * a check that times out stops the copy and fails the backup with its error; a copy that fails
 * stops the check. Without a check (offline, archive-check off), just the copy.
 */
async function whileArchivingChecked<T>(
  check: ArchivingCheck | undefined,
  signal: AbortSignal,
  copy: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (check === undefined) return copy(signal);
  log.info(`check archive for ${check.prior ? 'prior ' : ''}segment ${check.segment}`);
  const stopCopy = new AbortController();
  const stopCheck = new AbortController();
  let checkError: unknown;
  const checked = waitForArchivedSegments(
    check.repo,
    check.archiveId,
    [check.segment],
    check.timeoutMs,
    AbortSignal.any([signal, stopCheck.signal]),
  ).then(
    () => undefined,
    (error: unknown) => {
      // Stopped because the copy failed, or the backup was cancelled: the copy's error is the one to report.
      if (stopCheck.signal.aborted || signal.aborted) return;
      checkError = error;
      stopCopy.abort(error);
    },
  );
  try {
    const value = await copy(AbortSignal.any([signal, stopCopy.signal]));
    await checked;
    if (checkError !== undefined) throw checkError;
    return value;
  } catch (error) {
    stopCheck.abort();
    await checked;
    throw checkError ?? error;
  }
}

/** The workers wrote files without syncing their directories: make the new entries durable now. */
async function syncDirectories(repo: StanzaRepo, backupPath: string): Promise<void> {
  const directories = (await repo.storage.list(backupPath, { recurse: true, ignoreMissing: true })).filter(
    (entry) => entry.type === 'path',
  );
  for (const directory of directories) await repo.storage.pathSync(`${backupPath}/${directory.name}`);
  await repo.storage.pathSync(backupPath);
  await repo.storage.pathSync(`${backupPath}/..`);
}

function chooseCompressType(config: Config, type: BackupType, prior: Manifest | undefined): WritableCompressType {
  const wanted = config.string('compress-type');
  if (prior === undefined) return wanted as WritableCompressType;
  const priorType = prior.options.compressType;
  if (!isWritableCompressType(priorType)) {
    throw new PgkeepError(
      'FeatureNotSupported',
      `prior backup ${prior.backup.label} is compressed with ${priorType}, which pgkeep does not write`,
      {
        hint: 'take a full backup with --type=full',
      },
    );
  }
  // A backup set keeps one compression (pgBackRest warns only when the option was given).
  if (priorType !== wanted && config.resolved('compress-type')?.source !== 'default')
    log.warn(`${type} backup cannot alter compress-type option to '${wanted}', reset to value in ${prior.backup.label}`);
  return priorType;
}

/**
 * The copy start time (repo-format 7): the database clock just after the manifest was built, plus
 * one second; and when this machine's clock will be there. Files dated in the second the manifest
 * was built are read only from then on (BackupFileJob.notBefore), so a file changed after its
 * copy has a later timestamp than the manifest records and the next backup sees it as changed.
 * Unlike pgBackRest, nothing else waits for that second to end.
 */
async function copyStartTime(client: PgClient | undefined): Promise<{ copyStart: number; readyAt: number | undefined }> {
  if (client === undefined) return { copyStart: Math.floor(Date.now() / 1000), readyAt: undefined };
  const now = await client.now();
  // The database clock read `now` at the latest when the answer arrived: counting from here, it
  // is at the copy start by readyAt or before.
  const copyStart = Math.floor(now) + 1;
  return { copyStart, readyAt: Date.now() + Math.ceil((copyStart - now) * 1000) };
}

async function copyFiles(
  config: Config,
  repo: StanzaRepo,
  lock: StanzaLock,
  manifest: Manifest,
  jobs: ReturnType<typeof planFiles>['jobs'],
  prior: Manifest | undefined,
  options: BackupRunOptions,
  manifestFilePass: string | undefined,
): Promise<{ bytesCopied: number; filesCopied: number; filesMatched: number; filesResumed: number; pageErrors: number }> {
  const total = jobs.reduce((sum, job) => sum + job.size, 0);
  const meter = new ProgressMeter(total);
  const threshold = config.number('manifest-save-threshold');
  let sinceCheckpoint = 0;
  let filesDone = 0;
  const counts = { bytesCopied: 0, filesCopied: 0, filesMatched: 0, filesResumed: 0, pageErrors: 0 };
  let lastReport = 0;
  let lastLockUpdate = 0;
  // pgBackRest's detail line of each file: its path, size and the share of the backup done so far.
  let logged = 0;
  const fileLog = (what: string, key: string, size: number, checksum: string) => {
    logged += size;
    if (!log.enabled('detail')) return;
    const percent = formatPercent(total === 0 ? 10000 : Math.floor((logged / total) * 10000));
    log.detail(
      `${what} ${sourcePath(manifest, key)} (${formatBytes(size)}, ${percent})${size === 0 ? '' : ` checksum ${checksum}`}`,
    );
  };

  const report = async (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastReport < 250) return;
    lastReport = now;
    const snapshot = { ...meter.snapshot(), filesDone, filesTotal: jobs.length };
    options.onProgress?.(snapshot);
    if (force || now - lastLockUpdate >= 1000) {
      lastLockUpdate = now;
      await lock.update({ pctCplt: Math.floor(snapshot.percent * 100), size: total, sizeCplt: snapshot.doneBytes });
    }
  };

  await runJobs(jobs, {
    spawn: workerSpawner(),
    pipeline: JOBS_SENT_AHEAD,
    largeJob: LARGE_FILE_JOB,
    processMax: config.number('process-max'),
    jobRetry: config.number('job-retry'),
    jobRetryIntervalMs: config.number('job-retry-interval') * 1000,
    signal: options.signal,
    onProgress: (job, bytes) => {
      meter.progress(job.key, bytes);
      void report(false);
    },
    onResult: async (job, result: BackupFileResult) => {
      const file = manifest.files.get(job.key)!;
      meter.done(job.key, job.size);
      filesDone++;
      switch (result.status) {
        case 'missing':
          manifest.files.delete(job.key);
          log.detail(`skip file removed by database ${sourcePath(manifest, job.key)}`);
          break;
        case 'matched':
          reference(file, prior!.files.get(job.key)!, prior!.backup.label);
          counts.filesMatched++;
          fileLog('match file from prior backup', job.key, result.size, result.checksum);
          break;
        case 'resumed':
        case 'copied':
          fileLog(result.status === 'copied' ? 'backup file' : 'checksum resumed file', job.key, result.size, result.checksum);
          stored(file, result, manifest);
          if (result.status === 'resumed') counts.filesResumed++;
          else {
            counts.filesCopied++;
            counts.bytesCopied += result.size;
            sinceCheckpoint += result.size;
          }
          if (result.status === 'copied' && result.pageChecksum !== undefined) {
            file.checksumPage = result.pageChecksum.valid;
            if (result.pageChecksum.errorList === undefined) delete file.checksumPageError;
            else file.checksumPageError = result.pageChecksum.errorList;
            if (!result.pageChecksum.valid) {
              counts.pageErrors++;
              log.warn(
                result.pageChecksum.errorList === undefined
                  ? `page misalignment in file ${job.key}: file size ${result.size} is not divisible by page size 8192`
                  : pageErrorWarning(job.key, result.pageChecksum.errorList),
              );
            }
          }
          break;
      }
      if (sinceCheckpoint >= threshold) {
        sinceCheckpoint = 0;
        await saveCheckpoint(repo, manifest, manifestFilePass);
      }
      await report(false);
    },
  });
  await report(true);
  if (counts.filesResumed > 0) log.info(`resumed backup: ${counts.filesResumed} files already stored were checked and kept`);
  return counts;
}

/** A file the worker stored (or found stored): what the manifest records about it. */
function stored(
  file: ManifestFile,
  result: Extract<BackupFileResult, { status: 'copied' | 'resumed' }>,
  manifest: Manifest,
): void {
  file.size = result.size;
  file.checksum = result.size === 0 ? undefined : result.checksum;
  file.sizeRepo = result.repoSize;
  // rck only when the stored bytes are not the plain bytes (repo-format 3).
  file.checksumRepo =
    manifest.options.compressType === 'none' && manifest.cipherPass === undefined ? undefined : result.repoChecksum;
  file.reference = undefined;
}

/** backup_label and tablespace_map come from pg_backup_stop(), not from disk (repo-format 6). */
async function storeFile(
  repo: StanzaRepo,
  manifest: Manifest,
  backupPath: string,
  name: string,
  content: string,
  compressType: WritableCompressType,
  level: number,
): Promise<void> {
  const written = await copyToRepo(
    Buffer.from(content, 'utf8'),
    (data) => repo.storage.write(`${backupPath}/${name}${compressExtension(compressType)}`, data),
    { compressType, compressLevel: level, cipherPass: manifest.cipherPass },
  );
  addStoredFile(manifest, name, { status: 'copied', ...written });
  log.detail(`wrote '${name.slice(name.lastIndexOf('/') + 1)}' file returned from backup stop function`);
}

/**
 * A file the backup adds itself (backup_label, tablespace_map, archive-copy WAL): the data
 * directory's owner, its files' default mode, the stop time.
 */
function addStoredFile(manifest: Manifest, name: string, result: Extract<BackupFileResult, { status: 'copied' }>): void {
  const pgData = manifest.paths.get('pg_data')!;
  const file: ManifestFile = {
    name,
    size: 0,
    sizeRepo: 0,
    timestamp: manifest.backup.timestampStop,
    checksum: undefined,
    checksumRepo: undefined,
    reference: undefined,
    user: pgData.user,
    group: pgData.group,
    mode: pgData.mode & 0o640,
  };
  stored(file, result, manifest);
  manifest.files.set(name, file);
}

/**
 * The passphrase of a backup's files in an encrypted repository (none otherwise): a full backup
 * makes a new one; a diff or incremental has its prior's, since it refers to the prior's files; a
 * resumed backup keeps the one its stored files were encrypted with.
 */
function backupFilesPass(backupInfo: BackupInfo, prior: Manifest | undefined, resumed: Manifest | undefined): string | undefined {
  if (backupInfo.cipherPass === undefined) return undefined;
  return resumed?.cipherPass ?? prior?.cipherPass ?? newCipherPass();
}

/** archive-copy: the backup's WAL stored in the backup itself, so it restores without the archive. */
async function copyWal(
  repo: StanzaRepo,
  manifest: Manifest,
  backupPath: string,
  segments: ReadonlyMap<string, string>,
  compressType: WritableCompressType,
  level: number,
  archiveCipherPass: string | undefined,
): Promise<void> {
  const decrypt: FilterSpec[] = archiveCipherPass === undefined ? [] : [{ type: 'decrypt', pass: archiveCipherPass }];
  const encrypt: FilterSpec[] = manifest.cipherPass === undefined ? [] : [{ type: 'encrypt', pass: manifest.cipherPass }];
  for (const [segment, path] of segments) {
    const name = `pg_data/pg_wal/${segment}`;
    const results = await runPipeline(
      (await repo.storage.read(path))!,
      [
        ...decrypt,
        { type: 'decompress', compressType: compressTypeFromExtension(path), file: path },
        { type: 'size', resultName: 'size' },
        { type: 'sha1', resultName: 'checksum' },
        { type: 'compress', compressType, level },
        ...encrypt,
        { type: 'size', resultName: 'repoSize' },
        { type: 'sha1', resultName: 'repoChecksum' },
      ],
      (data) => repo.storage.write(`${backupPath}/${name}${compressExtension(compressType)}`, data),
    );
    addStoredFile(manifest, name, {
      status: 'copied',
      size: results['size'] as number,
      checksum: results['checksum'] as string,
      repoSize: results['repoSize'] as number,
      repoChecksum: results['repoChecksum'] as string,
    });
  }
}
