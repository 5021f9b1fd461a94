import { log } from '../../log/logger.js';
import type { ArchiveInfo } from '../../repo/info/archive-info.js';
import { archiveIdForHistory } from '../../repo/info/archive-info.js';
import type { BackupInfo, BackupInfoEntry } from '../../repo/info/backup-info.js';
import { archiveIdOf, describePg } from '../../repo/info/info-pg.js';
import { manifestFileRepoPath } from '../../repo/manifest/manifest-paths.js';
import { fileChecksum, MANIFEST_FILE, type Manifest, type ManifestFile } from '../../repo/manifest/manifest.js';
import { backupStanzaPath, type StanzaRepo } from '../common/stanza-repo.js';
import { measureFiles, type MeasureRequest, type MeasureSettings } from './measure.js';
import type { VerifyFileJob, VerifyFileResult } from './verify-file.js';
import { loadPair, manifestLoader } from './verify-info.js';
import { newBackupReport, reasonText, type BackupReport, type Verdict } from './verify-report.js';

/** A backup's manifest as verify found it. */
export interface ManifestLoad {
  readonly manifest: Manifest | undefined;
  /** When there is no usable manifest: why. */
  readonly status?: 'manifest missing' | 'in-progress' | 'invalid';
  readonly problems: string[];
  readonly warnings: string[];
}

/**
 * Loads `<label>/backup.manifest`, or its copy. The newest backup directory that backup.info does
 * not list and that has no backup.manifest yet is a backup still running: skipped (pgBackRest).
 * `cipherPass` is backup.info's passphrase in an encrypted repository.
 */
export async function loadBackupManifest(
  repo: StanzaRepo,
  label: string,
  mayBeInProgress: boolean,
  cipherPass: string | undefined,
): Promise<ManifestLoad> {
  const path = `${backupStanzaPath(repo.stanza)}/${label}/${MANIFEST_FILE}`;
  if (mayBeInProgress && !(await repo.storage.exists(path))) {
    log.info(`backup '${label}' appears to be in progress, skipping`);
    return { manifest: undefined, status: 'in-progress', problems: [], warnings: [] };
  }
  const pair = await loadPair(path, manifestLoader(repo.storage, cipherPass));
  if (pair.value !== undefined) return { manifest: pair.value, problems: pair.problems, warnings: pair.warnings };
  if (pair.report.main.status === 'missing' && pair.report.copy.status === 'missing') {
    log.detail(`manifest missing for '${label}' - backup may have expired`);
    return { manifest: undefined, status: 'manifest missing', problems: [], warnings: [] };
  }
  return { manifest: undefined, status: 'invalid', problems: [...pair.problems, 'no usable manifest'], warnings: pair.warnings };
}

/** What the backups of one verify run share: results of files already read, for references to them. */
export interface BackupRunContext {
  readonly repo: StanzaRepo;
  readonly backupInfo: BackupInfo | undefined;
  readonly archiveInfo: ArchiveInfo | undefined;
  readonly settings: MeasureSettings;
  /** Measurements by repository file (and offset in a bundle): a file referenced by later backups is read once. */
  readonly measured: Map<string, VerifyFileResult>;
  /** Invalid repository files already logged (a referenced file is logged once). */
  readonly logged: Set<string>;
}

/**
 * Verifies one backup: its manifest (usable, matching backup.info, from a database in the
 * history) and every file it lists, where the file is stored (its own directory, the backup it
 * references, a bundle). The WAL it needs is checked later, once the archive is verified
 * (checkBackupWal).
 */
export async function verifyBackup(
  context: BackupRunContext,
  label: string,
  loaded: ManifestLoad,
): Promise<{ report: BackupReport; warnings: string[] }> {
  const entry = context.backupInfo?.backups.find((backup) => backup.label === label);
  const report = newBackupReport(label, entry !== undefined);
  const warnings = [...loaded.warnings];
  report.problems.push(...loaded.problems);
  if (entry !== undefined) report.type = entry.type;
  if (entry === undefined && loaded.status !== 'in-progress' && context.backupInfo !== undefined)
    warnings.push(`backup '${label}' is in the repository but not in backup.info`);

  const manifest = loaded.manifest;
  if (manifest === undefined) {
    report.status = loaded.status!;
    return { report, warnings };
  }
  report.type = manifest.backup.type;
  report.archiveStart = manifest.backup.archiveStart ?? null;
  report.archiveStop = manifest.backup.archiveStop ?? null;
  report.archiveId = backupArchiveId(manifest, context.archiveInfo);
  if (entry !== undefined) report.problems.push(...compareWithBackupInfo(label, manifest, entry));
  else if (manifest.backup.label !== label)
    report.problems.push(`manifest label '${manifest.backup.label}' is not its directory's`);

  const history = context.backupInfo?.history ?? context.archiveInfo?.history;
  const { db } = manifest;
  if (
    history !== undefined &&
    !history.some((pg) => pg.id === db.id && pg.systemId === db.systemId && pg.version === db.version)
  ) {
    const problem = `PG data (id ${db.id}, ${describePg(db.systemId, db.version)}) is not in the backup.info history: the backup may not be recoverable`;
    log.info(`'${label}' ${problem}, skipping`);
    report.problems.push(problem);
    report.status = 'invalid';
    return { report, warnings };
  }
  if (manifest.files.size === 0) {
    log.info(`backup '${label}' manifest does not contain any target files to verify`);
    report.problems.push('manifest does not contain any target files to verify');
  }

  await verifyFiles(context, label, manifest, report);
  if (report.problems.length > 0 || report.invalidFiles.length > 0) report.status = 'invalid';
  return { report, warnings };
}

interface FileCheck {
  readonly file: ManifestFile;
  /** Measurement key; undefined for files that need no reading (zero-length in a bundled backup). */
  readonly key: string | undefined;
  readonly path: string;
  readonly content: boolean;
}

async function verifyFiles(context: BackupRunContext, label: string, manifest: Manifest, report: BackupReport): Promise<void> {
  const { repo } = context;
  const base = backupStanzaPath(repo.stanza);
  // Paths from the directory's label: a manifest whose label was altered still names its own files
  const located: Manifest = manifest.backup.label === label ? manifest : { ...manifest, backup: { ...manifest.backup, label } };
  const checks: FileCheck[] = [];
  const requests = new Map<string, MeasureRequest>();
  for (const file of manifest.files.values()) {
    report.filesChecked++;
    // A zero-length file of a bundled backup is stored nowhere (pgBackRest skips it too)
    if (file.size === 0 && manifest.backup.bundle) {
      checks.push({ file, key: undefined, path: '', content: false });
      continue;
    }
    const path = manifestFileRepoPath(located, file);
    const bundled = file.bundleId !== undefined && file.bundleId !== 0;
    const key = bundled ? `${base}/${path}@${file.bundleOffset ?? 0}` : `${base}/${path}`;
    // Block-incremental files (.pgbi) and raw bundles are not plain compressed streams: their stored bytes are checked (rck)
    const blockIncr = file.blockIncrMapSize !== undefined && file.blockIncrMapSize !== 0;
    const content = !blockIncr && !manifest.backup.bundleRaw;
    checks.push({ file, key, path, content });
    if (context.measured.has(key) || requests.has(key)) continue;
    const job: VerifyFileJob = {
      path: repo.storage.resolve(`${base}/${path}`),
      compressType: manifest.options.compressType,
      content,
      size: file.sizeRepo,
      cipherPass: manifest.cipherPass,
      ...(bundled ? { offset: file.bundleOffset ?? 0, limit: file.sizeRepo } : {}),
    };
    requests.set(key, { key, size: file.sizeRepo, job });
  }
  for (const [key, result] of await measureFiles([...requests.values()], context.settings)) context.measured.set(key, result);

  for (const check of checks) {
    const verdict =
      check.key === undefined ? undefined : classifyBackupFile(check.file, context.measured.get(check.key)!, check.content);
    if (verdict === undefined) {
      report.filesValid++;
      continue;
    }
    report.counts[verdict.reason]++;
    report.invalidFiles.push({ file: check.path, name: check.file.name, ...verdict });
    if (!context.logged.has(check.key!)) {
      context.logged.add(check.key!);
      log.info(`${reasonText(verdict.reason)} '${check.path}'${verdict.reason === 'missing' ? '' : `: ${verdict.detail}`}`);
    }
  }
}

/**
 * Why a backup file is not valid (undefined when it is). The stored bytes are checked against
 * `rck` and `repo-size` when the manifest has them (what pgBackRest 2.45 checks: storage damage),
 * then the content against `checksum` and `size` (a wrong file stored under the right name); for
 * each, the checksum before the size, as pgBackRest reports them.
 */
export function classifyBackupFile(
  file: Pick<ManifestFile, 'size' | 'sizeRepo' | 'checksum' | 'checksumRepo'>,
  result: VerifyFileResult,
  content: boolean,
): Verdict | undefined {
  if (result.status === 'missing') return { reason: 'missing' };
  if (file.checksumRepo !== undefined && result.repoChecksum !== undefined) {
    if (result.repoChecksum !== file.checksumRepo)
      return { reason: 'checksumInvalid', detail: `stored bytes have SHA-1 ${result.repoChecksum}, not ${file.checksumRepo}` };
    if (result.repoSize !== file.sizeRepo)
      return { reason: 'sizeInvalid', detail: `${result.repoSize} bytes stored, not ${file.sizeRepo}` };
  }
  if (result.status === 'failed') return { reason: 'other', detail: result.error };
  if (!content) {
    return file.checksumRepo === undefined
      ? { reason: 'other', detail: 'block incremental file without a repository checksum: pgkeep cannot verify it' }
      : undefined;
  }
  const expected = fileChecksum(file as ManifestFile);
  if (result.checksum !== expected)
    return { reason: 'checksumInvalid', detail: `content has SHA-1 ${result.checksum}, not ${expected}` };
  if (result.size !== file.size) return { reason: 'sizeInvalid', detail: `content is ${result.size} bytes, not ${file.size}` };
  return undefined;
}

/** The archive id of the manifest's database: the history entry with its id, system id and version. */
export function backupArchiveId(manifest: Manifest, archiveInfo: ArchiveInfo | undefined): string {
  const pg = { id: manifest.db.id, systemId: manifest.db.systemId, version: manifest.db.version };
  if (archiveInfo !== undefined) {
    try {
      return archiveIdForHistory(archiveInfo, pg);
    } catch {
      // Not in archive.info: the directory the backup would have used
    }
  }
  return archiveIdOf(pg);
}

/** backup.info and the manifest must describe the same backup. */
export function compareWithBackupInfo(label: string, manifest: Manifest, entry: BackupInfoEntry): string[] {
  const problems: string[] = [];
  const { backup } = manifest;
  const differ = (what: string, inManifest: unknown, inInfo: unknown) => {
    if (String(inManifest ?? null) !== String(inInfo ?? null))
      problems.push(
        `manifest ${what} '${String(inManifest ?? 'none')}' does not match backup.info '${String(inInfo ?? 'none')}'`,
      );
  };
  differ('label', backup.label, label);
  differ('type', backup.type, entry.type);
  differ('prior', backup.prior, entry.prior);
  differ('references', backup.reference.filter((reference) => reference !== label).join(','), (entry.reference ?? []).join(','));
  differ('archive start', backup.archiveStart, entry.archiveStart);
  differ('archive stop', backup.archiveStop, entry.archiveStop);
  differ('db id', manifest.db.id, entry.dbId);
  return problems;
}
