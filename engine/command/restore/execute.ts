import { chmodSync, constants, lchownSync, lstatSync, renameSync, utimesSync } from 'node:fs';
import {
  chmod,
  copyFile,
  lchown,
  lstat,
  mkdir,
  open,
  readFile,
  rm,
  rmdir,
  symlink,
  truncate,
  unlink,
  utimes,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';

import { runJobs, type WorkerSource } from '../../exec/pool.js';
import { ProgressMeter, type ProgressSnapshot } from '../../exec/progress-meter.js';
import { log } from '../../log/logger.js';
import { MANIFEST_FILE, renderManifestChunks } from '../../repo/manifest/manifest.js';
import { PosixStorage } from '../../storage/posix/posix-storage.js';
import { storageError, type StorageAction } from '../../storage/posix/storage-error.js';
import { groupId, userId } from '../../storage/posix/user-group.js';
import { formatBytes } from '../info/info-text.js';
import { PG_CONTROL_NAME } from './file-plan.js';
import type { RestorePlan } from './plan.js';
import type { RestorePlanFile, RestorePlanRemoval, RestorePlanTarget } from './plan-json.js';
import { problemError } from './problems.js';
import { AUTO_CONF, renderAutoConf, restoreLabel } from './recovery-settings.js';
import type { RestoreFileJob, RestoreFileResult } from './restore-file.js';
import { JOBS_SENT_AHEAD, LARGE_FILE_JOB } from '../common/workers.js';
import { workersFor } from './workers.js';

export interface ExecuteOptions {
  readonly workers: WorkerSource;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** The effective uid: owners are set only as root. */
  readonly uid?: number;
  /** Progress of the fetch phase (the UI's progress bar). */
  readonly onProgress?: (progress: ProgressSnapshot) => void;
}

export interface RestoreResult {
  readonly filesTotal: number;
  /** Files fetched from the repository, their plain bytes and their bytes in the repository. */
  readonly filesFetched: number;
  readonly bytesFetched: number;
  readonly bytesFetchedRepo: number;
  readonly filesKept: number;
  readonly filesEmpty: number;
  /** Files of databases a selective restore excludes, made as sparse files of zeros. */
  readonly filesZeroed: number;
  readonly removals: number;
  readonly sizeTotal: number;
}

interface Staged {
  readonly file: RestorePlanFile;
  readonly index: number;
  readonly stagePath: string;
}

/**
 * Executes a plan, exactly as planned. Two phases:
 *
 * 1. Fetch: the restore marker (backup.manifest) goes into the data directory, and every file to
 *    fetch is copied from the repository into a staging directory in its target, in parallel jobs
 *    largest first, each verified against the backup's size and SHA-1. If anything fails here, the
 *    staging directories, the marker and any target directory the restore created are removed:
 *    the targets are as they were.
 * 2. Commit: pg_control is removed first (an interrupted restore cannot be started), then the
 *    removals, directories, links, staged files moved into place, empty and kept files, recovery
 *    settings, fsync of every directory, and last the marker goes and pg_control is moved in.
 *
 * An interruption in either phase (kill -9) leaves the marker, and `restore --delta` completes it.
 */
export async function executeRestore(plan: RestorePlan, options: ExecuteOptions): Promise<RestoreResult> {
  const json = plan.json;
  const first = json.problems[0];
  if (first !== undefined) throw problemError(first);
  const uid = options.uid ?? process.geteuid?.() ?? -1;
  const root = uid === 0;
  const ids = (user: string | null, group: string | null) => ({
    uid: root && user !== null ? userId(user) : undefined,
    gid: root && group !== null ? groupId(group) : undefined,
  });
  const data = json.targets.find((target) => target.kind === 'data')!;
  const pathByName = new Map(json.paths.map((path) => [path.name, path]));
  const backup = json.backup!;
  log.info(
    `repo${backup.repo}: restore backup set ${backup.label}${backup.online ? `, recovery will start at ${restoreLabel(new Date(backup.timestampStart * 1000))}` : ''}`,
  );
  for (const target of json.targets) {
    if (target.mappedBy === 'pg1-path') log.info(`remap data directory to '${target.path}'`);
    else if (target.mappedBy === 'tablespace-map' || target.mappedBy === 'tablespace-map-all')
      log.info(`map tablespace '${target.name}' to '${target.path}'`);
    else if (target.mappedBy === 'link-map')
      log.info(
        `map link '${target.name.slice('pg_data/'.length)}' to '${target.path}${target.file === null ? '' : `/${target.file}`}'`,
      );
  }

  // pgBackRest's line for each place the plan looked at (once per path: file links may share one)
  for (const path of new Set(json.targets.map((target) => target.path))) log.detail(`check '${path}' exists`);

  // ---- 1. Fetch into staging (undone on failure) ----
  const createdRoots: string[] = [];
  const stagingDirs = [...new Set(json.targets.map((target) => target.stagingPath))];
  const createdStaging: string[] = [];
  const markerPath = join(data.path, MANIFEST_FILE);
  const markerExisted = (await lstat(markerPath).catch(() => undefined)) !== undefined;
  const staged: Staged[] = [];
  const stagingOf = new Map(json.targets.map((target) => [target.name, target.stagingPath]));
  json.files.forEach((file, index) => {
    if (file.repo !== null) staged.push({ file, index, stagePath: `${stagingOf.get(file.target)!}/${index}` });
  });
  const destinations = new Map(staged.map((entry) => [entry.file.name, entry.file.path]));
  const meter = new ProgressMeter(json.summary.bytes.fetch);
  // The share of the restore each detail line reports: fetched files first, then those kept or created empty.
  let sizeRestored = 0;
  const total = json.summary.bytes.total;
  try {
    for (const target of json.targets) {
      const rootPath = dirname(target.stagingPath);
      if ((await lstat(rootPath).catch(() => undefined)) !== undefined) continue;
      const entry = pathByName.get(rootPathName(target)) ?? pathByName.get('pg_data');
      await run(mkdir(rootPath, { mode: entry?.mode ?? 0o700 }), 'pathCreate', rootPath);
      createdRoots.push(rootPath);
      await run(chmod(rootPath, entry?.mode ?? 0o700), 'mode', rootPath);
      const owner = ids(entry?.user ?? null, entry?.group ?? null);
      if (owner.uid !== undefined || owner.gid !== undefined)
        await run(lchown(rootPath, owner.uid ?? -1, owner.gid ?? -1), 'owner', rootPath);
    }
    await writeMarker(plan, markerPath);
    for (const dir of stagingDirs) {
      await run(mkdir(dir, { mode: 0o700 }), 'pathCreate', dir);
      createdStaging.push(dir);
    }
    const jobs = staged.map(({ file, stagePath }) => {
      const owner = ids(file.user, file.group);
      const data: RestoreFileJob = {
        kind: 'copy',
        name: file.name,
        repoPath: file.repo!.path,
        offset: file.repo!.offset,
        limit: file.repo!.limit,
        repoSize: file.repo!.size,
        compressType: file.repo!.compressType,
        stagePath,
        size: file.size,
        checksum: file.checksum,
        mode: file.mode,
        uid: owner.uid,
        gid: owner.gid,
        mtime: file.timestamp,
        bufferSize: plan.request.bufferSize,
        cipherPass: plan.mappedManifest!.cipherPass,
      };
      return { key: file.name, handler: 'restore-file', size: file.size, queue: file.queue, data };
    });
    await runJobs(jobs, {
      ...workersFor(jobs, options.workers),
      processMax: plan.request.processMax,
      // Workers run a few jobs at once (JOBS_PER_WORKER): send them enough to do so.
      pipeline: JOBS_SENT_AHEAD,
      largeJob: LARGE_FILE_JOB,
      jobRetry: plan.request.jobRetry,
      jobRetryIntervalMs: plan.request.jobRetryIntervalMs,
      queueOrder: ['pg_data', ...json.targets.filter((target) => target.kind === 'tablespace').map((target) => target.name)],
      signal: options.signal,
      onProgress: (job, bytes) => {
        meter.progress(job.key, bytes);
        options.onProgress?.(meter.snapshot());
      },
      onResult: (job, result: RestoreFileResult) => {
        meter.done(job.key, job.size);
        options.onProgress?.(meter.snapshot());
        sizeRestored += job.size;
        log.detail(
          `restore file ${destinations.get(job.key)} (${formatBytes(job.size)}, ${percent(sizeRestored, total)}) checksum ${result.kind === 'copy' ? result.checksum : ''}`,
        );
      },
    });
  } catch (error) {
    await rollback(createdStaging, markerExisted ? undefined : markerPath, createdRoots);
    throw error;
  }

  log.debug('restore: files fetched');
  // ---- 2. Commit ----
  const pgControl = staged.find((entry) => entry.file.name === PG_CONTROL_NAME);
  const pgControlPath = join(data.path, 'global', 'pg_control');
  const oldControl = await lstat(pgControlPath).catch(() => undefined);
  if (oldControl !== undefined && !oldControl.isDirectory()) {
    log.detail(`remove 'global/pg_control' so cluster will not start if restore does not complete`);
    await run(unlink(pgControlPath), 'remove', pgControlPath);
    await syncPath(dirname(pgControlPath));
  }
  if (plan.request.delta)
    for (const target of json.targets)
      if (target.kind !== 'file-link') log.info(`remove invalid files/links/paths from '${target.path}'`);
  // A link removed and made again is one whose destination changed.
  const relinked = new Set(json.links.filter((link) => link.action !== 'keep').map((link) => link.path));
  for (const removal of json.removals) {
    log.detail(removalLine(removal, relinked));
    await run(
      rm(removal.path, { recursive: removal.type === 'path', force: true }),
      removal.type === 'path' ? 'pathRemove' : 'remove',
      removal.path,
    );
  }
  for (const path of json.paths) {
    if (path.action === 'create') {
      if ((await lstat(path.path).catch(() => undefined))?.isDirectory() !== true) {
        log.detail(`create path '${path.path}'`);
        await run(mkdir(path.path, { mode: path.mode }), 'pathCreate', path.path);
      }
    }
    fixMeta(path.path, path.mode, ids(path.user, path.group), undefined);
  }
  for (const link of json.links) {
    if (link.action === 'keep') continue;
    log.detail(`create symlink '${link.path}' to '${link.destination}'`);
    await run(symlink(link.destination, link.path), 'link', link.path, link.destination);
    const owner = ids(link.user, link.group);
    if (owner.uid !== undefined || owner.gid !== undefined)
      await run(lchown(link.path, owner.uid ?? -1, owner.gid ?? -1), 'owner', link.path);
  }
  let filesEmpty = 0;
  let filesZeroed = 0;
  let filesKept = 0;
  const touched: string[] = [];
  for (const [count, entry] of staged.entries()) {
    if (entry !== pgControl) await moveIntoPlace(entry.stagePath, entry.file.path);
    await turnEvery(count);
  }

  for (const [count, file] of json.files.entries()) {
    await turnEvery(count);
    if (file.repo !== null) continue;
    if (file.action === 'keep') {
      filesKept++;
      if (file.truncateFrom !== null) {
        await run(truncate(file.path, file.size), 'write', file.path);
        touched.push(file.path);
      }
      fixMeta(file.path, file.mode, ids(file.user, file.group), file.timestamp);
      sizeRestored += file.size;
      // --force keeps files by size and time; otherwise a kept file is empty or has the backup's checksum.
      const how = plan.request.force
        ? `matches size ${file.size} and modification time ${file.timestamp}`
        : file.size === 0
          ? 'is zero size'
          : 'matches backup';
      log.detail(
        `restore file ${file.path} - exists and ${how} (${formatBytes(file.size)}, ${percent(sizeRestored, total)})${file.size === 0 ? '' : ` checksum ${file.checksum}`}`,
      );
    } else {
      if (file.zeroed) filesZeroed++;
      else filesEmpty++;
      await writeEmpty(file, ids(file.user, file.group));
      touched.push(file.path);
      sizeRestored += file.size;
      log.detail(
        `restore${file.zeroed ? ' zeroed' : ''} file ${file.path} (${formatBytes(file.size)}, ${percent(sizeRestored, total)})`,
      );
    }
  }

  // Files were not synced one by one: many fsyncs at once let the file system commit them together.
  await syncFiles([...staged.map((entry) => (entry === pgControl ? entry.stagePath : entry.file.path)), ...touched]);
  log.debug('restore: files in place and synced');
  await writeRecovery(plan, data, ids, (options.now ?? (() => new Date()))());
  // Every directory, then the marker goes and pg_control comes last
  const synced = new Set<string>();
  for (const dir of [
    ...json.paths.map((path) => path.path),
    ...json.links.map((link) => dirname(link.path)),
    ...json.targets.map((target) => dirname(target.stagingPath)),
  ]) {
    if (synced.has(dir) || dir === dirname(pgControlPath)) continue;
    synced.add(dir);
    log.detail(`sync path '${dir}'`);
    await syncPath(dir);
  }
  await run(unlink(markerPath), 'remove', markerPath);
  if (pgControl !== undefined) {
    log.info('restore global/pg_control (performed last to ensure aborted restores cannot be started)');
    await moveIntoPlace(pgControl.stagePath, pgControl.file.path);
  }
  log.detail(`sync path '${dirname(pgControlPath)}'`);
  await syncPath(dirname(pgControlPath));
  for (const dir of stagingDirs) {
    await run(rmdir(dir), 'pathRemove', dir);
    await syncPath(dirname(dir));
  }
  const result: RestoreResult = {
    filesTotal: json.files.length,
    filesFetched: staged.length,
    bytesFetched: json.summary.bytes.fetch,
    bytesFetchedRepo: json.summary.bytes.fetchRepo,
    filesKept,
    filesEmpty,
    filesZeroed,
    removals: json.removals.length,
    sizeTotal: json.summary.bytes.total,
  };
  log.info(`restore size = ${formatBytes(result.sizeTotal)}, file total = ${result.filesTotal}`);
  log.info(
    `fetched ${result.filesFetched} files (${formatBytes(result.bytesFetched)}, ${formatBytes(result.bytesFetchedRepo)} from the repository), kept ${result.filesKept}, created ${result.filesEmpty} empty${result.filesZeroed === 0 ? '' : `, zeroed ${result.filesZeroed}`}, removed ${result.removals}`,
  );
  return result;
}

/** The manifest path entry of a target's root: pg_data, pg_tblspc/<oid>, or the link's own path. */
function rootPathName(target: RestorePlanTarget): string {
  return target.kind === 'file-link' ? 'pg_data' : target.name;
}

async function writeMarker(plan: RestorePlan, markerPath: string): Promise<void> {
  const storage = new PosixStorage({ basePath: dirname(markerPath) });
  const chunks = function* () {
    // Without the passphrase of the backup's files: the copy in the data directory is not encrypted.
    for (const chunk of renderManifestChunks({ ...plan.mappedManifest!, cipherPass: undefined }))
      yield Buffer.from(chunk, 'utf8');
  };
  await storage.write(MANIFEST_FILE, Readable.from(chunks(), { objectMode: false }), { mode: 0o600, atomic: true });
}

/** pgBackRest's detail line for a removal (the plan's reason is for --dry-run and the UI). */
function removalLine(removal: RestorePlanRemoval, relinked: ReadonlySet<string>): string {
  if (removal.type === 'link' && relinked.has(removal.path)) return `remove link '${removal.path}' because destination changed`;
  if (removal.type === 'special') return `remove special file '${removal.path}'`;
  return `remove invalid ${removal.type === 'path' ? 'path' : removal.type === 'link' ? 'link' : 'file'} '${removal.path}'`;
}

/** Undoes the fetch phase; it does what it can (a failure to remove is ignored: the original error is the one to report). */
async function rollback(staging: readonly string[], marker: string | undefined, roots: readonly string[]): Promise<void> {
  // A job of a tiny run in this process (workers.ts) may still be writing its staged file when
  // the run has failed (nothing can kill it): a file created while rm empties the directory
  // makes it fail with ENOTEMPTY, so rm tries again; once the directory is gone, the job's open fails.
  for (const dir of staging)
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }).catch(() => undefined);
  if (marker !== undefined) await rm(marker, { force: true }).catch(() => undefined);
  for (const dir of [...roots].reverse()) await rmdir(dir).catch(() => undefined);
}

/**
 * Renames a staged file into place; across file systems (a mount inside the data directory) it is
 * copied and synced. The copy needs a mount point, so it is tested by the integration tests
 * (test/integration/restore/errors.test.ts), whose restore runs in a child process.
 */
async function moveIntoPlace(from: string, to: string): Promise<void> {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw storageError(error, 'move', from, to);
    await run(copyFile(from, to), 'write', to);
    const stats = await lstat(from);
    await run(chmod(to, stats.mode & 0o7777), 'mode', to);
    await run(utimes(to, stats.atime, stats.mtime), 'time', to);
    if (process.geteuid?.() === 0) await run(lchown(to, stats.uid, stats.gid), 'owner', to);
    await syncFile(to);
    await run(unlink(from), 'remove', from);
  }
}

/** Mode, owner and time of an existing file or directory, changed only where they differ. */
function fixMeta(
  path: string,
  mode: number,
  owner: { uid: number | undefined; gid: number | undefined },
  mtime: number | undefined,
): void {
  const stats = runSync(() => lstatSync(path), 'info', path);
  if ((stats.mode & 0o7777) !== mode) {
    log.detail(`update mode for '${path}' to ${mode.toString(8).padStart(4, '0')}`);
    runSync(() => chmodSync(path, mode), 'mode', path);
  }
  if ((owner.uid !== undefined && owner.uid !== stats.uid) || (owner.gid !== undefined && owner.gid !== stats.gid)) {
    log.detail(`update ownership for '${path}'`);
    runSync(() => lchownSync(path, owner.uid ?? -1, owner.gid ?? -1), 'owner', path);
  }
  if (mtime !== undefined && Math.floor(stats.mtimeMs / 1000) !== mtime)
    runSync(() => utimesSync(path, mtime, mtime), 'time', path);
}

/**
 * Every this many files, the commit lets the event loop turn: its per-file calls are synchronous
 * (an lstat or a rename takes microseconds, a round trip through the thread pool about 0.1 ms here,
 * which made the commit of a scale-100 delta restore 90 ms instead of ~20), and in the desktop
 * app this is the main process, which must not stall on a cluster of a million files.
 */
const FILES_PER_TURN = 512;

async function turnEvery(count: number): Promise<void> {
  if (count % FILES_PER_TURN === FILES_PER_TURN - 1) await new Promise((resolve) => setImmediate(resolve));
}

/** An empty file, or the sparse file of zeros of a zeroed one (it grows to its size without a byte written). */
async function writeEmpty(file: RestorePlanFile, owner: { uid: number | undefined; gid: number | undefined }): Promise<void> {
  const handle = await run(
    open(file.path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, file.mode),
    'openWrite',
    file.path,
  );
  try {
    if (file.zeroed) await handle.truncate(file.size);
    if (owner.uid !== undefined || owner.gid !== undefined) await handle.chown(owner.uid ?? -1, owner.gid ?? -1);
    await handle.chmod(file.mode);
    await handle.utimes(file.timestamp, file.timestamp);
  } catch (error) {
    throw storageError(error, 'write', file.path);
  } finally {
    await handle.close();
  }
}

/** postgresql.auto.conf and the signal file, with the data directory's mode (& 0644) and owner (pgBackRest). */
async function writeRecovery(
  plan: RestorePlan,
  data: RestorePlanTarget,
  ids: (user: string | null, group: string | null) => { uid: number | undefined; gid: number | undefined },
  now: Date,
): Promise<void> {
  const recovery = plan.json.recovery;
  if (recovery.file === null) {
    if ((await lstat(join(data.path, AUTO_CONF)).catch(() => undefined)) === undefined)
      log.warn(`recovery type is preserve but recovery file does not exist at '${join(data.path, AUTO_CONF)}'`);
    return;
  }
  const dataPath = plan.json.paths.find((path) => path.name === 'pg_data')!;
  const mode = dataPath.mode & 0o644;
  const owner = ids(dataPath.user, dataPath.group);
  const autoConfPath = join(data.path, AUTO_CONF);
  const existing = await readFile(autoConfPath, 'utf8').catch(() => undefined);
  if (existing === undefined) log.warn(`${AUTO_CONF} does not exist -- creating to contain recovery settings`);
  const content = renderAutoConf(existing, recovery, restoreLabel(now));
  log.info(`write ${existing === undefined ? '' : 'updated '}${autoConfPath}`);
  await writeSmall(autoConfPath, content, mode, owner);
  if (recovery.signalFile !== null) await writeSmall(join(data.path, recovery.signalFile), '', mode, owner);
}

async function writeSmall(
  path: string,
  content: string,
  mode: number,
  owner: { uid: number | undefined; gid: number | undefined },
): Promise<void> {
  const handle = await run(
    open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode),
    'openWrite',
    path,
  );
  try {
    await handle.writeFile(content);
    if (owner.uid !== undefined || owner.gid !== undefined) await handle.chown(owner.uid ?? -1, owner.gid ?? -1);
    await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    throw storageError(error, 'write', path);
  } finally {
    await handle.close();
  }
}

/** How many files are synced at once (fsyncs in flight let the file system's journal commit them together). */
const SYNC_CONCURRENCY = 16;

async function syncFiles(paths: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < paths.length) await syncFile(paths[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(SYNC_CONCURRENCY, paths.length) }, worker));
}

async function syncFile(path: string): Promise<void> {
  const handle = await run(open(path, 'r'), 'openRead', path);
  try {
    await run(handle.sync(), 'sync', path);
  } finally {
    await handle.close();
  }
}

async function syncPath(path: string): Promise<void> {
  const handle = await run(open(path, 'r'), 'pathOpen', path);
  try {
    await run(handle.sync(), 'pathSync', path);
  } finally {
    await handle.close();
  }
}

function runSync<T>(operation: () => T, action: StorageAction, path: string): T {
  try {
    return operation();
  } catch (error) {
    throw storageError(error, action, path);
  }
}

async function run<T>(operation: Promise<T>, action: StorageAction, path: string, target?: string): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw storageError(error, action, path, target);
  }
}

function percent(done: number, total: number): string {
  return `${(total === 0 ? 100 : (done * 100) / total).toFixed(2)}%`;
}
