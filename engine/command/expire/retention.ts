import type { Config } from '../../config/config.js';
import type { BackupType } from '../../repo/backup/label.js';

/**
 * The retention options of one repository, after the defaulting pgBackRest 2.45 applies when it
 * loads the configuration of `backup` and `expire` (config/load.c): repo-retention-archive,
 * when not set, follows repo-retention-full (archive type full, full type count) or
 * repo-retention-diff (archive type diff); with archive type incr it must be set.
 */
export interface RetentionSettings {
  /** repo-retention-full: a count of full backups, or days with fullType 'time'; undefined keeps them all. */
  readonly full: number | undefined;
  readonly fullType: 'count' | 'time';
  /** repo-retention-diff: differential backups to keep (full backups count as differential). */
  readonly diff: number | undefined;
  /** repo-retention-archive after defaulting; undefined: WAL is not expired (unless time retention sets it). */
  readonly archive: number | undefined;
  readonly archiveType: BackupType;
  /** repo-retention-history: days of backup.history manifests to keep; undefined keeps them all. */
  readonly history: number | undefined;
}

export interface ResolvedRetention {
  readonly settings: RetentionSettings;
  /**
   * pgBackRest's warnings about settings that keep backups or WAL forever. pgBackRest logs the
   * full-retention warnings of every repository first, then the archive ones.
   */
  readonly fullWarnings: readonly string[];
  readonly archiveWarnings: readonly string[];
}

/** The settings as the user gave them, before defaulting (what retentionFromOptions takes). */
export interface RetentionOptions {
  readonly full?: number | undefined;
  readonly fullType?: 'count' | 'time' | undefined;
  readonly diff?: number | undefined;
  readonly archive?: number | undefined;
  readonly archiveType?: BackupType | undefined;
  readonly history?: number | undefined;
}

/** repo<index>-retention-<name>, the name pgBackRest's messages use. */
export function retentionOptionName(index: number, name: string): string {
  return `repo${index}-retention-${name}`;
}

/** The retention of repo<index> from the configuration, defaulted as pgBackRest does. */
export function retentionSettings(config: Config, index: number): ResolvedRetention {
  return resolveRetention(index, {
    full: config.numberOr('repo-retention-full', index),
    fullType: config.stringOr('repo-retention-full-type', index) as 'count' | 'time' | undefined,
    diff: config.numberOr('repo-retention-diff', index),
    archive: config.numberOr('repo-retention-archive', index),
    archiveType: config.stringOr('repo-retention-archive-type', index) as BackupType | undefined,
    history: config.numberOr('repo-retention-history', index),
  });
}

/** The defaulting and warnings of pgBackRest's cfgLoadUpdateOption, for one repository. */
export function resolveRetention(index: number, options: RetentionOptions): ResolvedRetention {
  const fullType = options.fullType ?? 'count';
  const archiveType = options.archiveType ?? 'full';
  const name = (option: string) => retentionOptionName(index, option);
  const fullWarnings: string[] = [];
  const warnings: string[] = [];

  if (options.full === undefined) {
    fullWarnings.push(
      `option '${name('full')}' is not set for '${name('full-type')}=${fullType}', the repository may run out of space\n` +
        `HINT: to retain full backups indefinitely (without warning), set option '${name('full')}' to the maximum.`,
    );
  }

  let archive = options.archive;
  const archiveOff = `WAL segments will not be expired: option '${name('archive-type')}=${archiveType}' but`;
  if (archive === undefined) {
    if (archiveType === 'full') {
      // With time-based full retention the expire itself decides (after it knows how many fulls remain).
      if (fullType === 'count' && options.full !== undefined) archive = options.full;
    } else if (archiveType === 'diff') {
      if (options.diff !== undefined) archive = options.diff;
      else warnings.push(`${archiveOff} neither option '${name('archive')}' nor option '${name('diff')}' is set`);
    } else {
      warnings.push(`${archiveOff} option '${name('archive')}' is not set`);
    }
  } else if (archiveType === 'diff' && options.diff === undefined) {
    warnings.push(
      `option '${name('diff')}' is not set for '${name('archive-type')}=diff'\n` +
        `HINT: to retain differential backups indefinitely (without warning), set option '${name('diff')}' to the maximum.`,
    );
  }

  return {
    settings: { full: options.full, fullType, diff: options.diff, archive, archiveType, history: options.history },
    fullWarnings,
    archiveWarnings: warnings,
  };
}
