import { Readable } from 'node:stream';

import type { FilterSpec } from '../../filter/filter-spec.js';
import { runPipeline } from '../../filter/pipeline.js';
import { backupHistoryPath } from '../../repo/backup/label.js';
import { saveArchiveInfo } from '../../repo/info/archive-info.js';
import { addBackup, backupInfoEntryFromManifest, saveBackupInfo, type BackupInfo } from '../../repo/info/backup-info.js';
import type { ArchiveInfo } from '../../repo/info/archive-info.js';
import { MANIFEST_FILE, renderManifestChunks, saveManifestFile, type Manifest } from '../../repo/manifest/manifest.js';
import { archiveInfoPath, backupInfoPath, backupStanzaPath, type StanzaRepo } from '../common/stanza-repo.js';

/**
 * Saves the resume checkpoint: `backup.manifest.copy` only, so the backup is not yet complete.
 * `cipherPass` is backup.info's passphrase in an encrypted repository.
 */
export async function saveCheckpoint(repo: StanzaRepo, manifest: Manifest, cipherPass: string | undefined): Promise<void> {
  await saveManifestFile(repo.storage, manifestPath(repo, manifest.backup.label), manifest, { copyOnly: true, cipherPass });
}

/**
 * Records a finished backup in pgBackRest 2.45's order (repo-format 1.2): the manifest (copy,
 * then main file), its gzipped history copy, the `latest` link, backup.info, and archive.info
 * rewritten unchanged. Until backup.info is saved the backup is not listed, so a crash in
 * between leaves a complete but unlisted backup that the next backup finds and removes.
 */
export async function recordBackup(
  repo: StanzaRepo,
  manifest: Manifest,
  backupInfo: BackupInfo,
  archiveInfo: ArchiveInfo,
): Promise<void> {
  const label = manifest.backup.label;
  await saveManifestFile(repo.storage, manifestPath(repo, label), manifest, { cipherPass: backupInfo.cipherPass });

  const history = `${backupStanzaPath(repo.stanza)}/${backupHistoryPath(label)}`;
  const chunks = Readable.from(
    (function* () {
      for (const chunk of renderManifestChunks(manifest)) yield Buffer.from(chunk, 'utf8');
    })(),
  );
  // Compressed, then encrypted with the manifest's passphrase in an encrypted repository.
  const encrypt: FilterSpec[] = backupInfo.cipherPass === undefined ? [] : [{ type: 'encrypt', pass: backupInfo.cipherPass }];
  await runPipeline(chunks, [{ type: 'compress', compressType: 'gz', level: 9 }, ...encrypt], (data) =>
    repo.storage.write(history, data),
  );

  const latest = `${backupStanzaPath(repo.stanza)}/latest`;
  await repo.storage.remove(`${latest}.pgkeep.tmp`);
  await repo.storage.symlink(label, `${latest}.pgkeep.tmp`);
  await repo.storage.move(`${latest}.pgkeep.tmp`, latest);

  addBackup(backupInfo, backupInfoEntryFromManifest(manifest));
  await saveBackupInfo(repo.storage, backupInfoPath(repo.stanza), backupInfo, repo.cipherPass);
  await saveArchiveInfo(repo.storage, archiveInfoPath(repo.stanza), archiveInfo, repo.cipherPass);
}

function manifestPath(repo: StanzaRepo, label: string): string {
  return `${backupStanzaPath(repo.stanza)}/${label}/${MANIFEST_FILE}`;
}
