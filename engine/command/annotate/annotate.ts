import { PgkeepError, toPgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { checkBackupLabelOption } from '../../repo/backup/label.js';
import { findBackup, saveBackupInfo } from '../../repo/info/backup-info.js';
import type { JsonObject } from '../../repo/info/json-value.js';
import type { CommandContext } from '../command.js';
import { withStanzaLock } from '../common/stanza-lock.js';
import { backupInfoPath, backupStanzaPath, loadStanzaBackupInfo, stanzaRepo } from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';
import { reconstructBackupInfo } from '../expire/reconstruct.js';

/**
 * `pgkeep annotate --set=<label> --annotation=key=value ...`: adds or changes the annotations of a
 * backup set in backup.info (`info --set` shows them); a key given with an empty value
 * (`--annotation=key=`) is removed. Every repository (or the one `--repo` names) that has the set
 * is updated, under the stanza's backup lock, as pgBackRest 2.45's annotate does, with one
 * difference: pgBackRest saves the file to the default repository whichever repository the set
 * was found in, pgkeep to that repository.
 */
export async function run({ config }: CommandContext): Promise<number> {
  const set = config.string('set');
  checkBackupLabelOption(set);
  const changes = config.hash('annotation');
  return withStanzaLock(config, 'backup', async () => {
    let found = 0;
    let failed = 0;
    for (const index of repoIndexes(config)) {
      try {
        const repo = stanzaRepo(config, index);
        const info = await loadStanzaBackupInfo(repo);
        await reconstructBackupInfo(repo.storage, backupStanzaPath(repo.stanza), info, (message) => log.warn(message));
        const entry = findBackup(info, set);
        if (entry === undefined) continue;
        found++;
        log.info(`backup set '${set}' to annotate found in repo${index}`);
        entry.annotation = annotated(entry.annotation, changes);
        await saveBackupInfo(repo.storage, backupInfoPath(repo.stanza), info, repo.cipherPass);
      } catch (caught) {
        const error = toPgkeepError(caught);
        log.error(`repo${index}: ${error.text}`, error.code);
        failed++;
      }
    }
    if (failed > 0)
      throw new PgkeepError('Command', `annotate command encountered ${failed} error(s), check the log file for details`);
    if (found === 0)
      throw new PgkeepError('BackupSetInvalid', 'no backup set to annotate found', {
        hint: `'pgkeep --stanza=${config.string('stanza')} info' lists the backup sets`,
      });
    return 0;
  });
}

/** The annotations after the changes: an empty value removes its key; none left is no annotation at all. */
function annotated(current: JsonObject | undefined, changes: Readonly<Record<string, string>>): JsonObject | undefined {
  const result: JsonObject = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === '') delete result[key];
    else result[key] = value;
  }
  return Object.keys(result).length === 0 ? undefined : result;
}
