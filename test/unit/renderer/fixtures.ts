import {
  backupSummarySchema,
  jobSchema,
  stanzaSummarySchema,
  type ArchiveStatus,
  type BackupSummary,
  type BackupType,
  type Job,
  type StanzaSummary,
} from '../../../engine/service/api.js';

/** "Now" in every renderer test: 2026-11-21 12:00:00 UTC. */
export const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
export const NOW_S = NOW / 1000;
const HOUR = 3600;
const DAY = 24 * HOUR;

export type StanzaOverrides = Partial<Omit<StanzaSummary, 'archive'>> & { archive?: Partial<ArchiveStatus> };

function label(stop: number, type: BackupType, full: string | null): string {
  const stamp = new Date(stop * 1000).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  if (type === 'full') return `${stamp}F`;
  return `${full}_${stamp}${type === 'diff' ? 'D' : 'I'}`;
}

/** A backup that stopped `agoSeconds` before NOW; diff/incr ones name the full they hang on. */
export function backup(
  type: BackupType,
  agoSeconds: number,
  full: BackupSummary | null = null,
  overrides: Partial<BackupSummary> = {},
): BackupSummary {
  const stopTime = NOW_S - agoSeconds;
  const name = label(stopTime, type, full?.label.slice(0, 16) ?? null);
  return backupSummarySchema.parse({
    label: name,
    type,
    prior: full?.label ?? null,
    references: full === null ? [] : [full.label],
    startTime: stopTime - 95,
    stopTime,
    size: 1_500_000_000,
    deltaSize: type === 'full' ? 1_500_000_000 : 20_000_000,
    repoSize: type === 'full' ? 310_000_000 : 5_000_000,
    repoDeltaSize: type === 'full' ? 310_000_000 : 5_000_000,
    walStart: '000000010000000000000010',
    walStop: '000000010000000000000011',
    lsnStart: '0/10000028',
    lsnStop: '0/11000100',
    pageErrors: false,
    online: true,
    ...overrides,
  });
}

/** Three days of backups: a full, a diff, and an incremental 2 h ago. */
export function healthyBackups(): BackupSummary[] {
  const full = backup('full', 3 * DAY);
  return [full, backup('diff', DAY, full), backup('incr', 2 * HOUR, full)];
}

export function stanza(overrides: StanzaOverrides = {}): StanzaSummary {
  const backups = overrides.backups ?? healthyBackups();
  return stanzaSummarySchema.parse({
    name: 'main',
    repoPath: '/var/lib/pgkeep',
    pgPath: '/var/lib/postgresql/15/main',
    status: { code: 0, message: 'ok' },
    database: { version: '15', systemId: '7312345678901234567' },
    backups,
    repoSize: 320_000_000,
    recoverable: backups.length === 0 ? null : { from: backups[0]!.stopTime, to: NOW_S - 120 },
    health: 'ok',
    problems: [],
    runningJobId: null,
    ...overrides,
    archive: {
      archiveId: '15-1',
      minWal: '000000010000000000000001',
      maxWal: '000000010000000000000042',
      lastArchivedTime: NOW_S - 120,
      archiver: {
        archivedCount: 66,
        lastArchivedWal: '000000010000000000000042',
        lastArchivedTime: NOW_S - 120,
        failedCount: 0,
        lastFailedWal: null,
        lastFailedTime: null,
      },
      ...overrides.archive,
    },
  });
}

export function job(overrides: Partial<Job> = {}): Job {
  return jobSchema.parse({
    id: 'job-1',
    request: { kind: 'backup', stanza: 'main', type: 'incr' },
    state: 'running',
    startedAt: NOW - 30_000,
    endedAt: null,
    progress: null,
    summary: null,
    backupLabel: null,
    error: null,
    log: [],
    ...overrides,
  });
}
