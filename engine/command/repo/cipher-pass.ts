import type { Config } from '../../config/config.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import { loadArchiveInfo } from '../../repo/info/archive-info.js';
import { loadBackupInfo } from '../../repo/info/backup-info.js';
import { INFO_COPY_EXT } from '../../repo/info/info-codec.js';
import { loadManifestFile, MANIFEST_FILE } from '../../repo/manifest/manifest.js';
import type { Storage } from '../../storage/storage.js';
import { archiveInfoPath, backupInfoPath, backupStanzaPath } from '../common/stanza-repo.js';
import { repoCipherPass } from '../common/storages.js';

const endsWithEither = (file: string, name: string) => file.endsWith(name) || file.endsWith(name + INFO_COPY_EXT);

/**
 * The passphrase a repository file was encrypted with, found from where it lies as pgBackRest's
 * repo-get finds it: `archive/<stanza>/` files with archive.info's (archive.info itself with the
 * repository's), `backup/<stanza>/` with backup.info's for manifests and the history, and with the
 * manifest's for a backup's files. Undefined when nothing is to be decrypted: the repository is
 * not encrypted, or --raw. `--cipher-pass` names it outright.
 */
export async function repoFilePass(config: Config, index: number, storage: Storage, file: string): Promise<string | undefined> {
  const repoPass = repoCipherPass(config, index);
  if (repoPass === undefined || config.boolean('raw')) return undefined;
  const given = config.stringOr('cipher-pass');
  if (given !== undefined) return given;
  const parts = file.split('/');
  const [area, stanza, set] = parts;
  let pass: string | undefined;
  if (parts.length > 2 && stanza !== undefined) {
    if (area === 'archive') {
      pass = endsWithEither(file, 'archive.info')
        ? repoPass
        : (await loadArchiveInfo(storage, archiveInfoPath(stanza), { cipherPass: repoPass })).value.cipherPass;
    } else if (area === 'backup') {
      pass = repoPass;
      if (!endsWithEither(file, 'backup.info')) {
        pass = (await loadBackupInfo(storage, backupInfoPath(stanza), { cipherPass: repoPass })).value.cipherPass;
        if (set !== 'backup.history' && !endsWithEither(file, MANIFEST_FILE)) {
          const manifest = `${backupStanzaPath(stanza)}/${set}/${MANIFEST_FILE}`;
          pass = (await loadManifestFile(storage, manifest, pass)).value.cipherPass;
        }
      }
    }
  }
  if (pass === undefined)
    throw new PgkeepError('OptionInvalidValue', `unable to determine cipher passphrase for '${file}'`, {
      hint: 'name a file under archive/<stanza>/ or backup/<stanza>/, give --raw for the stored bytes, or --cipher-pass',
    });
  return pass;
}
