import { setTimeout as sleep } from 'node:timers/promises';

import { PgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { archiveSegmentDir, segmentLookupRegex } from '../../repo/archive/archive-path.js';
import { currentArchiveId } from '../../repo/info/archive-info.js';
import { currentPgEntry, describePg } from '../../repo/info/info-pg.js';
import type { CommandContext } from '../command.js';
import { checkArchiveConfig } from '../common/archive-config.js';
import { connectPg } from '../common/pg-connect.js';
import { pgIdentity } from '../common/pg-identity.js';
import {
  archiveStanzaPath,
  checkStanzaMatches,
  loadStanzaArchiveInfo,
  loadStanzaBackupInfo,
  stanzaRepo,
  type StanzaRepo,
} from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';

/**
 * `pgkeep check`: the stanza matches the running cluster in every repository, archiving is set
 * up for pgkeep or pgBackRest (archive-check), and a WAL segment switched now reaches every
 * repository within archive-timeout.
 */
export async function run({ config, signal }: CommandContext): Promise<number> {
  const pg = await pgIdentity(config, true);
  const repos = repoIndexes(config).map((index) => stanzaRepo(config, index));
  const what = `PostgreSQL ${describePg(pg.systemId, pg.version)}`;
  for (const repo of repos) {
    log.info(`check repo${repo.index} configuration (primary)`);
    checkStanzaMatches(what, pg, currentPgEntry(await loadStanzaArchiveInfo(repo)), repo, 'ArchiveMismatch');
    checkStanzaMatches(what, pg, currentPgEntry(await loadStanzaBackupInfo(repo)), repo, 'BackupMismatch');
  }

  const client = await connectPg(config, 1);
  let segment: string;
  try {
    if (await client.isInRecovery()) {
      log.info('switch wal not performed because this is a standby');
      return 0;
    }
    // archive-check covers the settings only: the switched segment must reach the repository anyway (pgBackRest too).
    if (config.boolean('archive-check'))
      await checkArchiveConfig(client, { stanza: config.string('stanza'), modeCheck: config.boolean('archive-mode-check') });
    segment = await client.switchWal();
  } finally {
    await client.close();
  }

  const timeoutMs = config.number('archive-timeout') * 1000;
  for (const repo of repos) {
    log.info(`check repo${repo.index} archive for WAL (primary)`);
    const found = await waitForSegment(repo, segment, timeoutMs, signal);
    log.info(`WAL segment ${segment} successfully archived to '${repo.storage.resolve(found)}' on repo${repo.index}`);
  }
  return 0;
}

async function waitForSegment(repo: StanzaRepo, segment: string, timeoutMs: number, signal: AbortSignal): Promise<string> {
  const archiveId = currentArchiveId(await loadStanzaArchiveInfo(repo));
  const dir = `${archiveStanzaPath(repo.stanza)}/${archiveSegmentDir(archiveId, segment)}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [found] = await repo.storage.list(dir, { ignoreMissing: true, filter: segmentLookupRegex(segment) });
    if (found !== undefined) return `${dir}/${found.name}`;
    if (Date.now() >= deadline) {
      throw new PgkeepError(
        'ArchiveTimeout',
        `WAL segment ${segment} was not archived to repo${repo.index} before the ${timeoutMs}ms timeout`,
        {
          hint:
            'check that archive_command names this stanza and configuration (--stanza, --config), ' +
            "look for archive_command errors in the PostgreSQL log, and run 'pgkeep start' if the stanza was stopped",
        },
      );
    }
    await sleep(Math.min(100, Math.max(0, deadline - Date.now())), undefined, { signal });
  }
}
