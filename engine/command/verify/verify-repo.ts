import { PgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { backupLabelRegex, compareBackupLabels } from '../../repo/backup/label.js';
import { archiveIdOf } from '../../repo/info/info-pg.js';
import { compareBytes } from '../../repo/info/json-value.js';
import { archiveInfoPath, archiveStanzaPath, backupInfoPath, backupStanzaPath, type StanzaRepo } from '../common/stanza-repo.js';
import { checkBackupWal } from './backup-wal.js';
import type { MeasureSettings } from './measure.js';
import { verifyArchiveId, type ArchiveResult, type SegmentWindow } from './verify-archive.js';
import { backupArchiveId, loadBackupManifest, verifyBackup, type BackupRunContext, type ManifestLoad } from './verify-backup.js';
import type { VerifyFileResult } from './verify-file.js';
import { archiveInfoLoader, backupInfoLoader, compareHistories, loadPair } from './verify-info.js';
import { reportStatus, type BackupReport, type VerifyReport } from './verify-report.js';

export interface VerifyOptions extends MeasureSettings {
  /** Verify only this backup and the WAL it needs. */
  readonly set?: string | undefined;
}

/** pgBackRest's expression for archive id directories (`15-1`, `9.6-2`). */
const ARCHIVE_ID_REGEX = /^[0-9]+(\.[0-9]+)*-[0-9]+$/;

/**
 * Verifies one stanza of one repository (pgBackRest's verify, and more; see verify-report.ts):
 * the info files and their copies, every archived WAL file and the continuity of each timeline,
 * every backup's manifest and files, and the WAL each backup needs. Findings are collected in the
 * report, never thrown: only what stops verification altogether is (an encrypted repository, a
 * --set that names no backup, a cancelled run).
 */
export async function verifyRepo(repo: StanzaRepo, options: VerifyOptions): Promise<VerifyReport> {
  const problems: string[] = [];
  const warnings: string[] = [];

  const backupPair = await loadPair(backupInfoPath(repo.stanza), backupInfoLoader(repo.storage, repo.cipherPass));
  const archivePair = await loadPair(archiveInfoPath(repo.stanza), archiveInfoLoader(repo.storage, repo.cipherPass));
  const backupInfo = backupPair.value;
  const archiveInfo = archivePair.value;
  if (backupInfo === undefined) problems.push('No usable backup.info file');
  if (archiveInfo === undefined) problems.push('No usable archive.info file');
  problems.push(...backupPair.problems, ...archivePair.problems);
  warnings.push(...backupPair.warnings, ...archivePair.warnings);
  if (backupInfo !== undefined && archiveInfo !== undefined) problems.push(...compareHistories(archiveInfo, backupInfo));

  // Backups: the directories (as pgBackRest lists them) and whatever backup.info lists besides
  const onDisk = (await repo.storage.list(backupStanzaPath(repo.stanza), { ignoreMissing: true, filter: backupLabelRegex() }))
    .filter((entry) => entry.type === 'path')
    .map((entry) => entry.name);
  const inInfo = new Set(backupInfo?.backups.map((backup) => backup.label) ?? []);
  const labels = [...new Set([...onDisk, ...inInfo])].sort(compareBackupLabels);
  const newest = onDisk.sort(compareBackupLabels).at(-1);
  // The newest directory that backup.info does not list yet may be a backup that is running now
  const mayBeInProgress = (label: string) => label === newest && !inInfo.has(label);

  let archiveIds: string[];
  let window: SegmentWindow | undefined;
  let setLoad: ManifestLoad | undefined;
  const set = options.set;
  if (set !== undefined) {
    if (!labels.includes(set)) {
      throw new PgkeepError('BackupSetInvalid', `backup set '${set}' is not in stanza '${repo.stanza}' on repo${repo.index}`, {
        hint: `'pgkeep info --stanza=${repo.stanza}' lists the backups`,
      });
    }
    setLoad = await loadBackupManifest(repo, set, mayBeInProgress(set), backupInfo?.cipherPass);
    const backup = setLoad.manifest?.backup;
    archiveIds = [];
    if (backup?.archiveStart !== undefined && backup.archiveStop !== undefined) {
      window = { start: backup.archiveStart, stop: backup.archiveStop };
      archiveIds = [backupArchiveId(setLoad.manifest!, archiveInfo)];
    }
  } else {
    archiveIds = (await repo.storage.list(archiveStanzaPath(repo.stanza), { ignoreMissing: true, filter: ARCHIVE_ID_REGEX }))
      .filter((entry) => entry.type === 'path')
      .map((entry) => entry.name)
      .sort((a, b) => historyId(a) - historyId(b) || compareBytes(a, b));
    if (archiveInfo !== undefined) {
      const known = new Set(archiveInfo.history.map(archiveIdOf));
      const unknown = archiveIds.filter((archiveId) => !known.has(archiveId));
      if (unknown.length > 0) problems.push(`archiveIds '${unknown.join(', ')}' are not in the archive.info history list`);
    }
  }
  if (archiveIds.length === 0 && labels.length > 0) log.detail('no archives exist in the repo');
  if (labels.length === 0 && archiveIds.length > 0) log.detail('no backups exist in the repo');

  const archives = new Map<string, ArchiveResult>();
  for (const archiveId of archiveIds) {
    const result = await verifyArchiveId(repo, archiveId, options, window, archiveInfo?.cipherPass);
    archives.set(archiveId, result);
    for (const name of result.report.historyMissing) {
      warnings.push(`archiveId '${archiveId}' has WAL of timeline ${parseInt(name, 16)} but not its history file ${name}`);
    }
  }

  const context: BackupRunContext = {
    repo,
    backupInfo,
    archiveInfo,
    settings: options,
    measured: new Map<string, VerifyFileResult>(),
    logged: new Set<string>(),
  };
  const backups: BackupReport[] = [];
  for (const label of set === undefined ? labels : [set]) {
    const loaded = setLoad ?? (await loadBackupManifest(repo, label, mayBeInProgress(label), backupInfo?.cipherPass));
    const { report, warnings: found } = await verifyBackup(context, label, loaded);
    if (report.status === 'manifest missing' && report.inBackupInfo)
      report.problems.push('backup.info lists the backup but its manifest is missing');
    warnings.push(...found);
    backups.push(report);
  }
  for (const backup of backups) checkBackupWal(backup, archives);

  for (const warning of warnings) log.warn(warning);
  const report: VerifyReport = {
    stanza: repo.stanza,
    repo: repo.index,
    status: 'ok',
    set: set ?? null,
    info: { backupInfo: backupPair.report, archiveInfo: archivePair.report },
    archives: [...archives.values()].map((archive) => archive.report),
    backups,
    problems,
    warnings,
  };
  report.status = reportStatus(report);
  return report;
}

/** The history id of an archive id (`15-2` is 2): pgBackRest orders archive ids by it. */
function historyId(archiveId: string): number {
  return Number(archiveId.slice(archiveId.lastIndexOf('-') + 1));
}
