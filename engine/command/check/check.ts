import { setTimeout as sleep } from 'node:timers/promises';

import type { Config } from '../../config/config.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import { archiveSegmentDir, segmentLookupRegex } from '../../repo/archive/archive-path.js';
import { currentArchiveId } from '../../repo/info/archive-info.js';
import { currentPgEntry, describePg } from '../../repo/info/info-pg.js';
import type { CommandContext } from '../command.js';
import { checkArchiveConfig } from '../common/archive-config.js';
import { findPgClusters, type PgSession } from '../common/pg-clusters.js';
import { pgIdentity, type PgIdentity } from '../common/pg-identity.js';
import {
  archiveStanzaPath,
  checkInfoPair,
  checkStanzaMatches,
  loadStanzaArchiveInfo,
  loadStanzaBackupInfo,
  stanzaRepo,
  type StanzaRepo,
} from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';

/**
 * `pgkeep check`: the stanza matches the running clusters in every repository, archiving is set
 * up for pgkeep or pgBackRest (archive-check), and a WAL segment switched now reaches every
 * repository within archive-timeout. A standby configured beside the primary (pg1 ... pgN) is
 * checked against the stanza too; WAL is switched on the primary.
 */
export async function run({ config, signal }: CommandContext): Promise<number> {
  const repos = repoIndexes(config).map((index) => stanzaRepo(config, index));
  const { primary, standby } = await findPgClusters(config, { keepStandby: true });
  try {
    if (standby !== undefined) await checkStandby(config, standby, primary, repos);
    if (primary === undefined) {
      throw new PgkeepError('Config', 'no database found', {
        hint: 'none of the configured clusters answered: check pgN-path, pgN-port and pgN-socket-path',
      });
    }
    await checkPrimary(config, primary, repos, signal);
  } finally {
    await primary?.client.close();
    await standby?.client.close();
  }
  return 0;
}

/**
 * A standby matches the stanza. Alone it is an error, as in pgBackRest: the repository is local,
 * so the primary must be configured too, and only a check of the primary tells whether WAL
 * reaches the repository.
 */
async function checkStandby(
  config: Config,
  standby: PgSession,
  primary: PgSession | undefined,
  repos: readonly StanzaRepo[],
): Promise<void> {
  if (primary === undefined) {
    throw new PgkeepError('Config', `primary database not found: pg${standby.index} is a standby`, {
      hint: 'a standby is checked with its primary: add the primary to the stanza as another pgN (path, port and socket path)',
    });
  }
  const pg = await pgIdentity(config, standby);
  const what = `PostgreSQL ${describePg(pg.systemId, pg.version)} (standby pg${standby.index})`;
  for (const repo of repos) {
    log.info(`check repo${repo.index} (standby)`);
    await checkStanzaInfos(what, pg, repo);
  }
  log.info('switch wal not performed because this is a standby');
}

async function checkPrimary(
  config: Config,
  primary: PgSession,
  repos: readonly StanzaRepo[],
  signal: AbortSignal,
): Promise<void> {
  const pg = await pgIdentity(config, primary);
  // The cluster's settings first, then the repositories, as pgBackRest: the same fault gives the same code.
  // archive-check covers the settings only: the switched segment must reach the repository anyway (pgBackRest too).
  if (config.boolean('archive-check'))
    await checkArchiveConfig(primary.client, {
      stanza: config.string('stanza'),
      modeCheck: config.boolean('archive-mode-check'),
    });
  const what = `PostgreSQL ${describePg(pg.systemId, pg.version)}`;
  for (const repo of repos) {
    log.info(`check repo${repo.index} configuration (primary)`);
    await checkStanzaInfos(what, pg, repo);
  }
  const segment = await primary.client.switchWal();

  const timeoutMs = config.number('archive-timeout') * 1000;
  for (const repo of repos) {
    log.info(`check repo${repo.index} archive for WAL (primary)`);
    const found = await waitForSegment(repo, segment, timeoutMs, signal);
    log.info(`WAL segment ${segment} successfully archived to '${repo.storage.resolve(found)}' on repo${repo.index}`);
  }
}

/**
 * archive.info and backup.info name the same cluster, and it is this one. Both faults are
 * FileInvalid (028), as in pgBackRest's check: for check a stanza of another cluster is a bad
 * repository, not an archive or backup to refuse.
 */
async function checkStanzaInfos(what: string, pg: PgIdentity, repo: StanzaRepo): Promise<void> {
  const archive = currentPgEntry(await loadStanzaArchiveInfo(repo));
  const backup = currentPgEntry(await loadStanzaBackupInfo(repo));
  checkInfoPair(repo, archive, backup);
  checkStanzaMatches(what, pg, archive, repo, 'FileInvalid');
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
