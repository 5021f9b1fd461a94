import { backupLabelRegex, compareBackupLabels } from '../../repo/backup/label.js';
import { addBackup, backupInfoEntryFromManifest, findBackup, type BackupInfo } from '../../repo/info/backup-info.js';
import { loadManifestFile, MANIFEST_FILE } from '../../repo/manifest/manifest.js';
import type { Storage } from '../../storage/storage.js';
import { dependentChain } from './expire-plan.js';

/**
 * pgBackRest's infoBackupLoadFileReconstruct (used by backup, expire and annotate): brings
 * backup.info in line with the backup directories. An entry whose `backup.manifest` is gone is
 * removed with its dependents; a directory with a `backup.manifest` that backup.info does not list
 * is added when its database is in the history and its prior backup is listed. Works on `info` in
 * place (the caller saves it); `backupPath` is `backup/<stanza>`.
 */
export async function reconstructBackupInfo(
  storage: Storage,
  backupPath: string,
  info: BackupInfo,
  warn: (message: string) => void,
): Promise<void> {
  const manifestPath = (label: string) => `${backupPath}/${label}/${MANIFEST_FILE}`;
  const onDisk = (await storage.list(backupPath, { ignoreMissing: true, filter: backupLabelRegex() }))
    .map((entry) => entry.name)
    .sort(compareBackupLabels);

  for (const { label } of [...info.backups]) {
    if (findBackup(info, label) === undefined || (await storage.exists(manifestPath(label)))) continue;
    for (const missing of dependentChain(info, label).sort((a, b) => compareBackupLabels(b, a))) {
      warn(`backup '${missing}' missing manifest removed from backup.info`);
      info.backups = info.backups.filter((item) => item.label !== missing);
    }
  }

  for (const label of onDisk) {
    if (findBackup(info, label) !== undefined || !(await storage.exists(manifestPath(label)))) continue;
    const manifest = (await loadManifestFile(storage, manifestPath(label), info.cipherPass)).value;
    const { db, backup } = manifest;
    const matches = info.history.some(
      (entry) =>
        entry.id === db.id &&
        entry.systemId === db.systemId &&
        entry.version === db.version &&
        (backup.prior === undefined || findBackup(info, backup.prior) !== undefined),
    );
    if (matches) {
      warn(`backup '${label}' found in repository added to backup.info`);
      addBackup(info, backupInfoEntryFromManifest(manifest));
    } else {
      warn(`invalid backup '${backup.label}' cannot be added to current backups`);
    }
  }
}
