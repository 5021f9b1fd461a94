import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';

import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { runJobs, type WorkerSource } from '../../exec/pool.js';
import { runPipeline } from '../../filter/pipeline.js';
import { lsnParse } from '../../postgres/lsn.js';
import { parsePgControl, PG_CONTROL_DATA_SIZE } from '../../postgres/pg-control.js';
import { PG_WAL_SEGMENT_SIZE_DEFAULT } from '../../postgres/version-table.js';
import {
  assertRestorable,
  loadManifestFile,
  MANIFEST_FILE,
  type Manifest,
  type ManifestLink,
  type ManifestTarget,
  type Owner,
} from '../../repo/manifest/manifest.js';
import { validateManifestPaths } from '../../repo/manifest/manifest-paths.js';
import { log } from '../../log/logger.js';
import { groupId, groupName, userId, userName } from '../../storage/posix/user-group.js';
import { backupStanzaPath, type StanzaRepo } from '../common/stanza-repo.js';
import { formatBytes } from '../info/info-text.js';
import { selectBackup, type SelectedBackup } from './backup-select.js';
import { PG_CONTROL_NAME, planFiles, repoFile, type HashCandidate } from './file-plan.js';
import { RestoreLayout } from './layout.js';
import {
  RESTORE_PLAN_FORMAT,
  type RecoveryType,
  type RestorePlanBackup,
  type RestorePlanFile,
  type RestorePlanJson,
  type RestorePlanSpace,
  type RestorePlanSummary,
  type RestorePlanTarget,
  type RestorePlanWal,
} from './plan-json.js';
import { problem, problemOf, type Problem } from './problems.js';
import { parseTargetLsn, parseTargetTime } from './recovery-target.js';
import { AUTO_CONF, recoverySettings } from './recovery-settings.js';
import type { RestoreRequest } from './request.js';
import type { RestoreFileJob, RestoreFileResult } from './restore-file.js';
import { JOBS_SENT_AHEAD, LARGE_FILE_JOB } from '../common/workers.js';
import { workersFor } from './workers.js';
import { selectDatabases, type DatabaseSelection } from './selective.js';
import { mapTargets, type MappedLink, type MappedTarget } from './target-map.js';
import { inspectTargets } from './target-state.js';
import { WalArchive } from './wal-archive.js';
import { checkWal } from './wal-check.js';

export interface PlanOptions {
  /** Where the delta checksums run: worker processes (workerSpawner()) or in this process (tests). */
  readonly workers: WorkerSource;
  readonly signal?: AbortSignal;
  readonly now?: Date;
  /** The effective uid: owners are set only as root. */
  readonly uid?: number;
  /** Segments read at most to look for a name or xid target. */
  readonly walSearchLimit?: number;
}

/** A computed plan with what executing it needs besides the plan itself. */
export interface RestorePlan {
  readonly json: RestorePlanJson;
  readonly request: RestoreRequest;
  /** The backup's manifest (undefined when no backup could be chosen or read). */
  readonly manifest: Manifest | undefined;
  readonly repo: StanzaRepo | undefined;
  /** The manifest with the maps applied: what the restore leaves in the data directory as its marker. */
  readonly mappedManifest: Manifest | undefined;
}

/**
 * Computes the whole restore before anything is written: the backup set, the targets after the
 * maps, every file's action (with --delta checksums of existing files), removals, space, the WAL
 * recovery needs and whether the target can be reached, and the recovery settings. Every problem
 * is collected; none is thrown (except a cancel). Only reads: the targets, the repository.
 */
export async function planRestore(request: RestoreRequest, options: PlanOptions): Promise<RestorePlan> {
  const now = options.now ?? new Date();
  const uid = options.uid ?? process.geteuid?.() ?? -1;
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  let type: RecoveryType = request.type;

  // 1. The backup set
  let time: number | undefined;
  let lsn: bigint | undefined;
  if (request.set === undefined && type === 'time') {
    const parsed = parseTargetTime(request.target ?? '');
    if (parsed === undefined) {
      problems.push(
        problem('Format', `automatic backup set selection cannot be performed with provided time '${request.target ?? ''}'`, {
          hint: 'time format must be YYYY-MM-DD HH:MM:SS with optional msec and optional timezone (+/- HH or HHMM or HH:MM); if timezone is omitted, local time is assumed (for UTC use +00)',
        }),
      );
    } else time = parsed.seconds;
  }
  if (request.set === undefined && type === 'lsn') {
    try {
      lsn = parseTargetLsn(request.target ?? '');
    } catch (error) {
      problems.push(problemOf(toPgkeepError(error)));
    }
  }
  const selection = problems.length > 0 ? undefined : await selectBackup(request.repos, request.set, { time, lsn });
  warnings.push(...(selection?.warnings ?? []));
  if (selection?.problem !== undefined) problems.push(selection.problem);
  let selected = selection?.backup;
  let loaded = selected === undefined ? undefined : await loadBackup(selected, problems);
  log.debug(`plan: backup set ${selected?.entry.label ?? 'none'} and its manifest loaded`);

  // 2. The WAL. A name or xid target may choose an older backup: its search comes before the files.
  // Any other check runs while the files are planned and the delta checksums computed (it decodes
  // WAL in this process for ~0.1 s, while the checksums run in the workers); its findings still
  // come first in the plan.
  let wal: RestorePlanWal | null = null;
  let walLater: (() => Promise<void>) | undefined;
  if (selected !== undefined && loaded !== undefined && selected.entry.archiveStart !== null && loaded.manifest.options.online) {
    if (searchesOlderBackups(request)) {
      const walPlan = await planWal(request, selected, loaded.manifest, options, selection!.candidates);
      if (walPlan.reselect !== undefined && walPlan.reselect.entry.label !== selected.entry.label) {
        selected = walPlan.reselect;
        loaded = await loadBackup(selected, problems);
        const again = loaded === undefined ? undefined : await planWal(request, selected, loaded.manifest, options, []);
        wal = again?.check.wal ?? null;
        if (again !== undefined) collect(again.check, problems, warnings, notes);
      } else {
        wal = walPlan.check.wal;
        collect(walPlan.check, problems, warnings, notes);
      }
    } else {
      const at = { problems: problems.length, warnings: warnings.length, notes: notes.length };
      const { manifest } = loaded;
      const chosen = selected;
      walLater = async () => {
        const walPlan = await planWal(request, chosen, manifest, options, []);
        wal = walPlan.check.wal;
        problems.splice(at.problems, 0, ...walPlan.check.problems);
        warnings.splice(at.warnings, 0, ...walPlan.check.warnings);
        notes.splice(at.notes, 0, ...walPlan.check.notes);
      };
    }
  } else if (loaded !== undefined && !loaded.manifest.options.online) {
    if (!request.typeGiven) type = 'none';
    notes.push(
      `backup ${loaded.manifest.backup.label} was taken offline: it needs no WAL, and recovery settings are only written for --type other than none`,
    );
  }

  let walRun: Promise<void> | undefined;
  const walChecked = () => (walRun ??= (walLater?.() ?? Promise.resolve()).then(() => log.debug('plan: WAL checked')));
  const manifest = loaded?.manifest;
  const backupJson = selected === undefined || manifest === undefined ? null : describeBackup(selected, manifest);
  const recovery = recoverySettings(request, type, manifest?.options.online ?? true);
  problems.push(...recovery.problems);

  // 3. Targets, files, space
  let targets: RestorePlanTarget[] = [];
  let files: RestorePlanFile[] = [];
  let paths: RestorePlanJson['paths'] = [];
  let links: RestorePlanJson['links'] = [];
  let removals: RestorePlanJson['removals'] = [];
  let space: RestorePlanSpace[] = [];
  let mappedManifest: Manifest | undefined;
  const stagingName = `.pgkeep-restore-${randomBytes(4).toString('hex')}`;
  let mapping: ReturnType<typeof mapTargets> | undefined;
  let databases: DatabaseSelection | undefined;
  if (manifest !== undefined && loaded!.safe) {
    try {
      mapping = mapTargets(manifest, request);
      databases = selectDatabases(manifest, request.dbInclude, request.dbExclude);
    } catch (error) {
      // A PostgreSQL version pgkeep does not know (its tablespace directory name is unknown), a database not in the backup
      problems.push(problemOf(toPgkeepError(error)));
    }
  }
  if (manifest !== undefined && mapping !== undefined) {
    problems.push(...mapping.problems);
    warnings.push(...mapping.warnings);
    const inspection = await inspectTargets(mapping.targets, {
      delta: request.delta,
      force: request.force,
      preserve: type === 'preserve',
      uid,
    });
    problems.push(...inspection.problems);
    warnings.push(...inspection.warnings);
    const layout = new RestoreLayout(mapping.targets);
    const owner = ownerResolver(manifest, uid, request.pgPath, warnings);
    const skipped = new Set(['pg_data/tablespace_map', ...(type === 'preserve' ? [`pg_data/${AUTO_CONF}`] : [])]);
    const filePlan = await planFiles({
      manifest,
      files: [...manifest.files.values()].filter((file) => !skipped.has(file.name)),
      layout,
      links: mapping.links,
      states: inspection.states,
      delta: inspection.delta,
      force: inspection.force,
      preserve: type === 'preserve',
      owner,
      backupPath: selected!.repo.storage.resolve(backupStanzaPath(selected!.repo.stanza)),
      zeroed: databases?.zeroed,
    });
    files = filePlan.files;
    log.debug(`plan: targets inspected, ${filePlan.hash.length} existing files to compare by checksum`);
    // Both end before the plan goes on, whichever fails.
    const settled = await Promise.allSettled([
      resolveChecksums(files, filePlan.hash, request, options).then(() => log.debug('plan: checksums compared')),
      walChecked(),
    ]);
    for (const result of settled) if (result.status === 'rejected') throw result.reason;
    paths = filePlan.paths;
    links = filePlan.links;
    removals = filePlan.removals;
    targets = mapping.targets.map((target) => {
      const state = inspection.states.get(target.name)!;
      return {
        name: target.name,
        kind: target.kind,
        originalPath: target.originalPath,
        path: target.path,
        file: target.file,
        tablespaceId: target.tablespaceId,
        tablespaceName: target.tablespaceName,
        mappedBy: target.mappedBy,
        restorePath: target.restorePath,
        exists: state.exists,
        empty: state.empty,
        filesystem: state.filesystem,
        stagingPath: `${target.absolutePath}/${stagingName}`,
      };
    });
    space = spaceNeeded(targets, files, inspection.states);
    // (A file system too small needs a mount: test/integration/restore/errors.test.ts restores onto a small tmpfs.)
    for (const entry of space) {
      if (!entry.enough) {
        problems.push(
          problem(
            'SpaceInsufficient',
            `not enough space for the restore on the file system of ${entry.paths.join(', ')}: ${formatBytes(entry.needed)} needed, ${formatBytes(entry.free ?? 0)} free`,
            {
              hint: 'free space there, or map the tablespaces or links that do not fit elsewhere (--tablespace-map, --link-map)',
            },
          ),
        );
      }
    }
    mappedManifest = mapManifest(manifest, mapping.targets, mapping.links);
    if (!manifest.files.has(PG_CONTROL_NAME))
      warnings.push("backup does not contain 'global/pg_control': the cluster will not start");
  }

  await walChecked();

  const json: RestorePlanJson = {
    format: RESTORE_PLAN_FORMAT,
    createdAt: now.toISOString(),
    stanza: request.stanza,
    ok: problems.length === 0,
    request: {
      repos: request.repos.map((repo) => repo.index),
      pgPath: request.pgPath,
      set: request.set ?? null,
      type,
      target: request.target ?? null,
      targetAction: request.targetAction ?? null,
      targetTimeline: request.targetTimeline ?? null,
      targetExclusive: request.targetExclusive,
      tablespaceMap: request.tablespaceMap,
      tablespaceMapAll: request.tablespaceMapAll ?? null,
      linkMap: request.linkMap,
      linkAll: request.linkAll,
      delta: request.delta,
      force: request.force,
      recoveryOptions: request.recoveryOptions,
      archiveMode: request.archiveMode,
      processMax: request.processMax,
      dbInclude: request.dbInclude,
      dbExclude: request.dbExclude,
    },
    backup: backupJson,
    selective: databases?.json ?? null,
    targets,
    paths,
    links,
    files,
    removals,
    summary: summarize(files, removals, paths, links),
    space,
    wal,
    recovery: recovery.recovery,
    problems,
    warnings,
    notes,
    stagingName,
  };
  return { json, request, manifest, repo: selected?.repo, mappedManifest };
}

function collect(
  check: { problems: Problem[]; warnings: string[]; notes: string[] },
  problems: Problem[],
  warnings: string[],
  notes: string[],
): void {
  problems.push(...check.problems);
  warnings.push(...check.warnings);
  notes.push(...check.notes);
}

/** Loads and checks the chosen backup's manifest; problems instead of errors. `safe`: its names may be used. */
async function loadBackup(
  selected: SelectedBackup,
  problems: Problem[],
): Promise<{ manifest: Manifest; safe: boolean } | undefined> {
  const path = `${backupStanzaPath(selected.repo.stanza)}/${selected.entry.label}/${MANIFEST_FILE}`;
  let manifest: Manifest;
  try {
    manifest = (await loadManifestFile(selected.repo.storage, path, selected.info.cipherPass)).value;
  } catch (error) {
    problems.push(problemOf(toPgkeepError(error)));
    return undefined;
  }
  try {
    if (manifest.backup.label !== selected.entry.label) {
      throw new PgkeepError(
        'Format',
        `requested backup '${selected.entry.label}' and manifest label '${manifest.backup.label}' do not match`,
        {
          hint: 'this indicates some sort of corruption (at the very least paths have been renamed)',
        },
      );
    }
    if (manifest.files.size === 0) throw new PgkeepError('Format', `manifest of backup '${selected.entry.label}' has no files`);
    assertRestorable(manifest);
    validateManifestPaths(manifest);
  } catch (error) {
    problems.push(problemOf(toPgkeepError(error)));
    return { manifest, safe: false };
  }
  return { manifest, safe: true };
}

async function planWal(
  request: RestoreRequest,
  selected: SelectedBackup,
  manifest: Manifest,
  options: PlanOptions,
  candidates: readonly { repo: StanzaRepo; entry: SelectedBackup['entry'] }[],
): Promise<{ check: Awaited<ReturnType<typeof checkWal>>; reselect: SelectedBackup | undefined }> {
  const segmentSize = await walSegmentSize(selected, manifest);
  const archive = await WalArchive.open(request.repos, { systemId: manifest.db.systemId, version: manifest.db.version });
  const entry = selected.entry;
  const searching = searchesOlderBackups(request);
  const oldest = searching
    ? candidates
        .filter(
          (candidate) =>
            candidate.entry.archiveStart !== null && candidate.entry.archiveStart.slice(0, 8) === entry.archiveStart!.slice(0, 8),
        )
        .map((candidate) => candidate.entry.archiveStart!)
        .sort()[0]
    : undefined;
  const check = await checkWal({
    archive,
    segmentSize: segmentSize.value,
    backup: {
      label: entry.label,
      archiveStart: entry.archiveStart!,
      archiveStop: entry.archiveStop!,
      lsnStop: entry.lsnStop,
      timestampStop: entry.timestampStop,
    },
    type: request.type,
    target: request.target,
    targetExclusive: request.targetExclusive,
    targetTimeline: request.targetTimeline,
    searchFrom: oldest,
    searchLimit: options.walSearchLimit,
  });
  if (segmentSize.warning !== undefined) check.warnings.push(segmentSize.warning);
  let reselect: SelectedBackup | undefined;
  if (searching && check.found !== undefined) {
    const before = candidates.filter(
      (candidate) => candidate.entry.lsnStop !== undefined && lsnParse(candidate.entry.lsnStop) <= check.found!,
    );
    const newest = before.at(-1);
    if (newest !== undefined) reselect = { ...selected, repo: newest.repo, entry: newest.entry, selectedBy: 'target' };
  }
  return { check, reselect };
}

/** A name or xid target without --set is searched from the oldest backup on, and may choose an older backup than the latest. */
function searchesOlderBackups(request: RestoreRequest): boolean {
  return request.set === undefined && (request.type === 'name' || request.type === 'xid');
}

/** The WAL segment size of the backup's cluster, from its pg_control in the repository. */
async function walSegmentSize(selected: SelectedBackup, manifest: Manifest): Promise<{ value: number; warning?: string }> {
  const file = manifest.files.get(PG_CONTROL_NAME);
  // An online backup always has pg_control (pgBackRest fails a backup without it); kept for a damaged manifest.
  if (file === undefined)
    return { value: PG_WAL_SEGMENT_SIZE_DEFAULT, warning: 'the backup has no pg_control: 16 MiB WAL segments assumed' };
  const repo = repoFile(manifest, file, selected.repo.storage.resolve(backupStanzaPath(selected.repo.stanza)));
  try {
    const source = await selected.repo.storage.read(repo.path, {
      ...(repo.offset === null ? {} : { offset: repo.offset }),
      ...(repo.limit === null ? {} : { limit: repo.limit }),
    });
    const chunks: Buffer[] = [];
    await runPipeline(
      source!,
      [
        ...(manifest.cipherPass === undefined ? [] : [{ type: 'decrypt' as const, pass: manifest.cipherPass, file: repo.path }]),
        { type: 'decompress', compressType: manifest.options.compressType, file: repo.path },
      ],
      async (data) => {
        for await (const chunk of data) chunks.push(chunk);
      },
    );
    return {
      value: parsePgControl(Buffer.concat(chunks).subarray(0, Math.max(PG_CONTROL_DATA_SIZE, 0)), repo.path).walSegmentSize,
    };
  } catch (error) {
    return {
      value: PG_WAL_SEGMENT_SIZE_DEFAULT,
      warning: `pg_control of the backup could not be read (${toPgkeepError(error).message}): 16 MiB WAL segments assumed`,
    };
  }
}

/** Files up to this size are hashed in batches, to spare a job round trip per file. */
const HASH_BATCH_FILE_MAX = 1024 * 1024;
const HASH_BATCH_BYTES = 8 * 1024 * 1024;
const HASH_BATCH_FILES = 64;

/** Runs the delta checksums of existing files in the worker pool and settles their actions. */
async function resolveChecksums(
  files: RestorePlanFile[],
  candidates: readonly HashCandidate[],
  request: RestoreRequest,
  options: PlanOptions,
): Promise<void> {
  if (candidates.length === 0) return;
  const batches: HashCandidate[][] = [];
  const open = new Map<string, { batch: HashCandidate[]; bytes: number }>();
  for (const candidate of candidates) {
    const queue = files[candidate.index]!.queue;
    if (candidate.size > HASH_BATCH_FILE_MAX) {
      batches.push([candidate]);
      continue;
    }
    let current = open.get(queue);
    if (current === undefined || current.batch.length >= HASH_BATCH_FILES || current.bytes + candidate.size > HASH_BATCH_BYTES) {
      current = { batch: [], bytes: 0 };
      batches.push(current.batch);
      open.set(queue, current);
    }
    current.batch.push(candidate);
    current.bytes += candidate.size;
  }
  const jobs = batches.map((batch) => {
    const first = files[batch[0]!.index]!;
    const data: RestoreFileJob = {
      kind: 'hash',
      files: batch.map((candidate) => ({ path: candidate.path, size: candidate.size })),
    };
    const size = batch.reduce((sum, candidate) => sum + candidate.size, 0);
    return {
      key: batch.length === 1 ? first.name : `${first.name} (+${batch.length - 1})`,
      handler: 'restore-file',
      size,
      queue: first.queue,
      data,
      batch,
    };
  });
  await runJobs(jobs, {
    ...workersFor(jobs, options.workers),
    processMax: request.processMax,
    // Workers run a few jobs at once (JOBS_PER_WORKER): send them enough to do so.
    pipeline: JOBS_SENT_AHEAD,
    largeJob: LARGE_FILE_JOB,
    jobRetry: request.jobRetry,
    jobRetryIntervalMs: request.jobRetryIntervalMs,
    signal: options.signal,
    onResult: (job, result: RestoreFileResult) => {
      const checksums = result.kind === 'hash' ? result.checksums : [];
      job.batch.forEach((candidate, position) => {
        const file = files[candidate.index]!;
        // A candidate was planned as 'replace' (with its repository file): it is kept when the checksum matches.
        if (checksums[position] === file.checksum) {
          files[candidate.index] = {
            ...file,
            action: 'keep',
            reason: 'checksum matches',
            repo: null,
            truncateFrom: candidate.existingSize > candidate.size ? candidate.existingSize : null,
          };
        }
      });
    },
  });
}

function describeBackup(selected: SelectedBackup, manifest: Manifest): RestorePlanBackup {
  const { backup } = manifest;
  return {
    repo: selected.repo.index,
    label: backup.label,
    type: backup.type,
    selectedBy: selected.selectedBy,
    timestampStart: backup.timestampStart,
    timestampStop: backup.timestampStop,
    lsnStart: backup.lsnStart ?? null,
    lsnStop: backup.lsnStop ?? null,
    archiveStart: backup.archiveStart ?? null,
    archiveStop: backup.archiveStop ?? null,
    online: manifest.options.online,
    references: backup.reference,
    pgVersion: manifest.db.version,
    systemId: manifest.db.systemId.toString(),
    compressType: manifest.options.compressType,
    path: selected.repo.storage.resolve(`${backupStanzaPath(selected.repo.stanza)}/${backup.label}`),
  };
}

/**
 * Owners as the restore sets them (pgBackRest's restoreManifestOwner): as root, the manifest's
 * names, with unknown ones (false, or a name this host lacks) replaced by the data directory's
 * owner; as anyone else, none (files belong to the restoring user), with a warning for every
 * other owner the backup names.
 */
function ownerResolver(
  manifest: Manifest,
  uid: number,
  pgPath: string,
  warnings: string[],
): (owner: Owner, kind: 'user' | 'group') => string | null {
  const names = { user: new Set<string>(), group: new Set<string>() };
  let unknown = { user: false, group: false };
  for (const entry of [...manifest.files.values(), ...manifest.paths.values(), ...manifest.links.values()]) {
    for (const kind of ['user', 'group'] as const) {
      const owner = entry[kind];
      if (owner === false) unknown = { ...unknown, [kind]: true };
      else names[kind].add(owner);
    }
  }
  if (uid !== 0) {
    const me = { user: userName(uid), group: groupName(process.getegid?.() ?? -1) };
    for (const kind of ['user', 'group'] as const) {
      if (unknown[kind]) warnings.push(`unknown ${kind} in backup manifest mapped to current ${kind}`);
      for (const name of names[kind])
        if (name !== me[kind]) warnings.push(`unknown ${kind} '${name}' in backup manifest mapped to current ${kind}`);
    }
    return () => null;
  }
  const base = dataDirectoryOwner(pgPath);
  // As root: the manifest's name when this host has it, else the data directory's owner (tested as root only).
  return (owner, kind) => {
    if (owner !== false && (kind === 'user' ? userId(owner) : groupId(owner)) !== undefined) return owner;
    return kind === 'user' ? base.user : base.group;
  };
}

/** The owner of the data directory, or of its nearest existing parent. */
function dataDirectoryOwner(pgPath: string): { user: string | null; group: string | null } {
  for (let path = pgPath; ; path = dirname(path)) {
    try {
      const stats = statSync(path);
      return { user: userName(stats.uid), group: groupName(stats.gid) };
    } catch {
      if (path === dirname(path)) return { user: null, group: null };
    }
  }
}

function spaceNeeded(
  targets: readonly RestorePlanTarget[],
  files: readonly RestorePlanFile[],
  states: ReadonlyMap<string, { free: number | undefined }>,
): RestorePlanSpace[] {
  const byFilesystem = new Map<string, { paths: string[]; needed: number; free: number | null }>();
  const targetFs = new Map<string, string>();
  for (const target of targets) {
    targetFs.set(target.name, target.filesystem);
    const entry = byFilesystem.get(target.filesystem) ?? { paths: [], needed: 0, free: states.get(target.name)?.free ?? null };
    entry.paths.push(target.restorePath);
    byFilesystem.set(target.filesystem, entry);
  }
  for (const file of files) {
    if (file.repo === null) continue;
    byFilesystem.get(targetFs.get(file.target)!)!.needed += file.size;
  }
  return [...byFilesystem].map(([filesystem, entry]) => ({
    filesystem,
    paths: entry.paths,
    needed: entry.needed,
    free: entry.free,
    enough: entry.free === null || entry.needed <= entry.free,
  }));
}

function summarize(
  files: readonly RestorePlanFile[],
  removals: readonly unknown[],
  paths: RestorePlanJson['paths'],
  links: RestorePlanJson['links'],
): RestorePlanSummary {
  const count = { create: 0, replace: 0, keep: 0, zeroed: 0 };
  const bytes = { total: 0, fetch: 0, fetchRepo: 0, keep: 0 };
  let fetchFiles = 0;
  for (const file of files) {
    count[file.action]++;
    if (file.zeroed) count.zeroed++;
    bytes.total += file.size;
    if (file.action === 'keep') bytes.keep += file.size;
    if (file.repo !== null) {
      fetchFiles++;
      bytes.fetch += file.size;
      bytes.fetchRepo += file.repo.size;
    }
  }
  return {
    files: { total: files.length, ...count },
    fetchFiles,
    removals: removals.length,
    pathsCreate: paths.filter((path) => path.action === 'create').length,
    linksCreate: links.filter((link) => link.action === 'create').length,
    bytes,
  };
}

/** The manifest as the restore leaves it in the data directory: targets and links after the maps. */
function mapManifest(manifest: Manifest, targets: readonly MappedTarget[], links: ReadonlyMap<string, MappedLink>): Manifest {
  const mappedTargets = new Map<string, ManifestTarget>();
  for (const target of targets) {
    const original = manifest.targets.get(target.name);
    mappedTargets.set(target.name, {
      name: target.name,
      type: target.kind === 'data' ? 'path' : 'link',
      path: target.path,
      file: target.file ?? undefined,
      tablespaceId: target.tablespaceId ?? undefined,
      tablespaceName: original?.tablespaceName ?? target.tablespaceName ?? undefined,
      unknown: original?.unknown,
    });
  }
  const mappedLinks = new Map<string, ManifestLink>();
  for (const link of links.values()) {
    mappedLinks.set(link.name, {
      ...manifest.links.get(link.name),
      name: link.name,
      destination: link.destination,
      user: link.user,
      group: link.group,
    });
  }
  return { ...manifest, targets: mappedTargets, links: mappedLinks };
}
