import { toPgkeepError } from '../../error/pgkeep-error.js';
import { lsnParse } from '../../postgres/lsn.js';
import type { BackupInfo, BackupInfoEntry } from '../../repo/info/backup-info.js';
import { loadStanzaBackupInfo, type StanzaRepo } from '../common/stanza-repo.js';
import { formatTime } from '../info/info-text.js';
import { problem, type Problem } from './problems.js';

export interface SelectedBackup {
  readonly repo: StanzaRepo;
  readonly info: BackupInfo;
  readonly entry: BackupInfoEntry;
  readonly selectedBy: 'set' | 'latest' | 'target';
}

export interface SelectionTarget {
  /** Epoch seconds of a time target. */
  readonly time?: number | undefined;
  readonly lsn?: bigint | undefined;
}

export interface Selection {
  readonly backup: SelectedBackup | undefined;
  readonly problem: Problem | undefined;
  readonly warnings: string[];
  /** Every backup of the repositories looked at, oldest first (for the recoverable range). */
  readonly candidates: { readonly repo: StanzaRepo; readonly entry: BackupInfoEntry }[];
}

/**
 * pgBackRest's backup set choice (restoreBackupSet): repositories in order; `--set` is looked up by
 * label; a time or lsn target takes the newest backup that stopped before the time (stop < target,
 * whole seconds) or at or before the lsn; otherwise the latest backup. A repository whose
 * backup.info cannot be read is skipped with a warning. Where pgBackRest then restores to the end
 * of WAL, the plan reports the target as unreachable with the range that is.
 */
export async function selectBackup(
  repos: readonly StanzaRepo[],
  set: string | undefined,
  target: SelectionTarget,
): Promise<Selection> {
  const warnings: string[] = [];
  const candidates: Selection['candidates'] = [];
  for (const repo of repos) {
    let info: BackupInfo;
    try {
      info = await loadStanzaBackupInfo(repo);
    } catch (caught) {
      const error = toPgkeepError(caught);
      warnings.push(`repo${repo.index}: [${error.errorName}] ${error.message}`);
      continue;
    }
    if (info.backups.length === 0) {
      warnings.push(`repo${repo.index}: no backup sets to restore`);
      continue;
    }
    for (const entry of info.backups) candidates.push({ repo, entry });
    if (set !== undefined) {
      const entry = info.backups.find((backup) => backup.label === set);
      if (entry !== undefined)
        return { backup: { repo, info, entry, selectedBy: 'set' }, problem: undefined, warnings, candidates };
      continue;
    }
    if (target.time !== undefined || target.lsn !== undefined) {
      for (const entry of [...info.backups].reverse()) {
        if (target.lsn !== undefined && entry.lsnStop === undefined) {
          warnings.push(
            `repo${repo.index} reached backup ${entry.label}, which has no stop LSN (a backup from an old version), before finding a match: choose a backup with --set`,
          );
          break;
        }
        const before = target.time !== undefined ? entry.timestampStop < target.time : lsnParse(entry.lsnStop!) <= target.lsn!;
        if (before) return { backup: { repo, info, entry, selectedBy: 'target' }, problem: undefined, warnings, candidates };
      }
      continue;
    }
    const latest = info.backups.at(-1)!;
    if (latest.dbId < info.currentId) {
      return {
        backup: undefined,
        problem: problem(
          'BackupSetInvalid',
          `the latest backup set found '${latest.label}' is from a prior version of PostgreSQL`,
          {
            hint: 'was a backup created after the stanza-upgrade? specify --set or --type=time/lsn to restore from a prior version of PostgreSQL',
          },
        ),
        warnings,
        candidates,
      };
    }
    return { backup: { repo, info, entry: latest, selectedBy: 'latest' }, problem: undefined, warnings, candidates };
  }

  let found: Problem;
  if (set !== undefined) {
    found = problem('BackupSetInvalid', `backup set ${set} is not valid`, {
      hint: `'pgkeep info --stanza=<stanza>' lists the backup sets`,
    });
  } else if (target.time !== undefined || target.lsn !== undefined) {
    const oldest = [...candidates].sort((a, b) => a.entry.timestampStop - b.entry.timestampStop)[0];
    found = problem(
      'RecoveryTargetUnreachable',
      oldest === undefined
        ? 'no backup set found to restore'
        : target.time !== undefined
          ? `no backup ended before the target time ${formatTime(target.time)}: the oldest backup, ${oldest.entry.label}, ended at ${formatTime(oldest.entry.timestampStop)}`
          : `no backup ended at or before the target lsn: the oldest backup, ${oldest.entry.label}, ended at lsn ${oldest.entry.lsnStop ?? 'unknown'}`,
      {
        hint:
          oldest === undefined
            ? 'take a backup first'
            : `recovery can reach ${target.time !== undefined ? `times after ${formatTime(oldest.entry.timestampStop)}` : `lsns from ${oldest.entry.lsnStop ?? 'the end of a backup'}`} (to the end of the archive); an earlier point is lost`,
      },
    );
  } else {
    found = problem('BackupSetInvalid', 'no backup set found to restore', { hint: 'take a backup first' });
  }
  return { backup: undefined, problem: found, warnings, candidates };
}
