import type { Config } from '../config/config.js';
import { toPgkeepError } from '../error/pgkeep-error.js';
import { log } from '../log/logger.js';
import { archiveIdForHistory } from '../repo/info/archive-info.js';
import type { BackupInfoEntry } from '../repo/info/backup-info.js';
import { currentPgEntry } from '../repo/info/info-pg.js';
import { buildStanzaInfo } from '../repo/info-json.js';
import { defaultPgIndex } from '../command/common/pg-index.js';
import { archiveStanzaPath, repoCipherType, stanzaRepo } from '../command/common/stanza-repo.js';
import { loadRepoState } from '../command/info/info-load.js';
import { connectPg } from '../command/common/pg-connect.js';
import type { ArchiverStats, BackupSummary, Problem, StanzaSummary } from './api.js';

export interface SummaryOptions {
  /** A backup older than this is overdue (hours). */
  readonly overdueHours: number;
  readonly now?: number;
}

/**
 * Everything the dashboard shows of one stanza, read from its repository (and from PostgreSQL's
 * pg_stat_archiver when the database answers), with its health judged the way a DBA would:
 * no backup, an overdue backup, archiving that fails, a repository that cannot be read.
 */
export async function stanzaSummary(config: Config, options: SummaryOptions): Promise<StanzaSummary> {
  const name = config.string('stanza');
  const repoIndex = config.indexes('repo')[0]!;
  const repo = stanzaRepo(config, repoIndex, name);
  const state = await loadRepoState(repo);
  const json = buildStanzaInfo({ name, repos: [{ key: repoIndex, cipher: repoCipherType(repo), state }] });
  const problems: Problem[] = [];
  const now = options.now ?? Date.now() / 1000;

  let backups: BackupSummary[] = [];
  let database: StanzaSummary['database'] = null;
  let archive: StanzaSummary['archive'] = { archiveId: null, minWal: null, maxWal: null, lastArchivedTime: null, archiver: null };
  let repoSize = 0;

  if (state.kind === 'ok') {
    const current = currentPgEntry(state.backupInfo);
    database = { version: current.version, systemId: String(current.systemId) };
    backups = state.backupInfo.backups.map(backupSummary);
    const archiveId = archiveIdForHistory(state.archiveInfo, current);
    const range = state.archiveRanges.get(archiveId);
    const sizes = await repositorySize(repo.storage, name);
    repoSize = sizes.total;
    archive = {
      archiveId,
      minWal: range?.min ?? null,
      maxWal: range?.max ?? null,
      lastArchivedTime: sizes.newestWalTime,
      archiver: await archiverStats(config),
    };
  } else {
    problems.push({
      kind: 'repository',
      severity: 'error',
      message: `the repository of stanza '${name}' cannot be read: ${json.repo[0]?.status.message ?? json.status.message}`,
      hint:
        state.kind === 'missing-stanza-path' || state.kind === 'missing-stanza-data'
          ? `create it with 'pgkeep stanza-create --stanza=${name}'`
          : 'check repo1-path and the permissions of the repository',
    });
  }

  const last = backups.at(-1);
  if (state.kind === 'ok' && last === undefined) {
    problems.push({ kind: 'no-backup', severity: 'warning', message: 'there is no backup yet', hint: 'take a full backup now' });
  } else if (last !== undefined && now - last.stopTime > options.overdueHours * 3600) {
    const hours = Math.floor((now - last.stopTime) / 3600);
    problems.push({
      kind: 'backup-overdue',
      severity: now - last.stopTime > options.overdueHours * 3 * 3600 ? 'error' : 'warning',
      message: `the last backup finished ${hours} hours ago`,
      hint: 'check the backup schedule (cron) on the repository host, or back up now',
    });
  }
  const archiver = archive.archiver;
  if (archiver !== null && archiver.failedCount > 0 && (archiver.lastFailedTime ?? 0) > (archiver.lastArchivedTime ?? 0)) {
    problems.push({
      kind: 'archive-failing',
      severity: 'error',
      message: `WAL archiving is failing: ${archiver.failedCount} failures, the last for ${archiver.lastFailedWal ?? 'a WAL file'}`,
      hint: "read the PostgreSQL log for archive_command errors and run 'pgkeep check'; WAL piles up in pg_wal until archiving works",
    });
  }

  const oldest = backups[0];
  const recoverableTo = Math.max(last?.stopTime ?? 0, archive.lastArchivedTime ?? 0);
  return {
    name,
    repoPath: config.string('repo-path', repoIndex),
    pgPath: config.stringOr('pg-path', defaultPgIndex(config)) ?? null,
    status: { code: json.status.code, message: json.status.message },
    database,
    backups,
    archive,
    repoSize,
    recoverable: oldest === undefined ? null : { from: oldest.stopTime, to: recoverableTo },
    health: problems.some((problem) => problem.severity === 'error') ? 'error' : problems.length > 0 ? 'warning' : 'ok',
    problems,
    runningJobId: null,
  };
}

function backupSummary(entry: BackupInfoEntry): BackupSummary {
  return {
    label: entry.label,
    type: entry.type,
    prior: entry.prior ?? null,
    references: entry.reference ?? [],
    startTime: entry.timestampStart,
    stopTime: entry.timestampStop,
    size: entry.size,
    deltaSize: entry.sizeDelta,
    repoSize: entry.repoSize,
    repoDeltaSize: entry.repoSizeDelta,
    walStart: entry.archiveStart,
    walStop: entry.archiveStop,
    lsnStart: entry.lsnStart ?? null,
    lsnStop: entry.lsnStop ?? null,
    pageErrors: entry.error === true,
    online: entry.optionOnline,
  };
}

/** Bytes the stanza holds in the repository, and when the newest WAL file arrived. */
async function repositorySize(
  storage: ReturnType<typeof stanzaRepo>['storage'],
  stanza: string,
): Promise<{ total: number; newestWalTime: number | null }> {
  let total = 0;
  let newestWalTime: number | null = null;
  for (const base of [archiveStanzaPath(stanza), `backup/${stanza}`]) {
    for (const entry of await storage.list(base, { recurse: true, ignoreMissing: true })) {
      if (entry.type !== 'file') continue;
      total += entry.size;
      if (base.startsWith('archive/') && /^[0-9A-F]{24}-/.test(entry.name.split('/').at(-1) ?? '')) {
        newestWalTime = Math.max(newestWalTime ?? 0, entry.mtime);
      }
    }
  }
  return { total, newestWalTime };
}

/** PostgreSQL's view of archiving; null when the database cannot be reached from here. */
async function archiverStats(config: Config): Promise<ArchiverStats | null> {
  if (!config.has('pg-path', defaultPgIndex(config))) return null;
  try {
    const client = await connectPg(config, defaultPgIndex(config), 3000);
    try {
      return await client.archiverStats();
    } finally {
      await client.close();
    }
  } catch (error) {
    log.debug(`pg_stat_archiver not available: ${toPgkeepError(error).message}`);
    return null;
  }
}
