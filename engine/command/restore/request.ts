import { resolve } from 'node:path';

import type { Config, ResolvedOption } from '../../config/config.js';
import { defaultPgIndex } from '../common/pg-index.js';
import { stanzaRepo, type StanzaRepo } from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';
import type { RecoveryType, TargetAction } from './plan-json.js';

/**
 * What to restore and how: the restore options as plain values. The CLI builds it from the
 * configuration (requestFromConfig); the desktop app builds it from its restore planner, whose
 * map editor changes tablespaceMap/linkMap and asks for a new plan.
 */
export interface RestoreRequest {
  readonly stanza: string;
  /** Repositories to take the backup from, in order of preference (--repo, or every configured one). */
  readonly repos: readonly StanzaRepo[];
  /** The data directory to restore into (pg1-path). */
  readonly pgPath: string;
  /** A backup label; undefined for the latest (or, for time/lsn/name/xid targets, the newest that ends before it). */
  readonly set?: string | undefined;
  readonly type: RecoveryType;
  /** Whether --type was given: an offline backup restores with type none unless it was. */
  readonly typeGiven: boolean;
  readonly target?: string | undefined;
  readonly targetAction?: TargetAction | undefined;
  readonly targetTimeline?: string | undefined;
  readonly targetExclusive: boolean;
  /** Tablespace name or oid -> new location. */
  readonly tablespaceMap: Readonly<Record<string, string>>;
  readonly tablespaceMapAll?: string | undefined;
  /** Link name relative to the data directory -> new destination. */
  readonly linkMap: Readonly<Record<string, string>>;
  readonly linkAll: boolean;
  /** Databases (names or oids) to restore alone (system databases always come too), or to zero: see selective.ts. */
  readonly dbInclude: readonly string[];
  readonly dbExclude: readonly string[];
  readonly delta: boolean;
  readonly force: boolean;
  readonly recoveryOptions: Readonly<Record<string, string>>;
  readonly archiveMode: 'off' | 'preserve';
  /** The archive-get command for restore_command, up to (not including) `%f "%p"`. */
  readonly archiveGetCommand: string;
  readonly processMax: number;
  /** Retries of a failed file job and the wait before the second one. */
  readonly jobRetry: number;
  readonly jobRetryIntervalMs: number;
  /** Read size for repository and data files (at least 1 MiB is used). */
  readonly bufferSize: number;
}

/** Options restore passes on to archive-get in restore_command that make no sense there (pgBackRest's list). */
const NOT_FOR_ARCHIVE_GET = new Set([
  'exec-id',
  'job-retry',
  'job-retry-interval',
  'log-level-console',
  'log-level-file',
  'log-level-stderr',
  'log-subprocess',
  'log-timestamp',
  'process-max',
  'cmd',
  'repo-cipher-type',
]);

/**
 * `<cmd> <options> archive-get` as pgBackRest builds restore_command (cfgExecParam for a local
 * process): the options given on the command line that archive-get also takes, in option order,
 * without secrets and without the ones in NOT_FOR_ARCHIVE_GET. Settings from configuration files and
 * the environment are left out because archive-get reads them itself.
 */
export function archiveGetCommand(config: Config, cmd: string): string {
  const words: string[] = [];
  const quote = (text: string) => (text.includes(' ') ? `"${text}"` : text);
  const options = [...config.all()].filter(
    (option) =>
      option.source === 'command-line' &&
      option.def.commands['archive-get'] !== undefined &&
      option.def.secure !== true &&
      !NOT_FOR_ARCHIVE_GET.has(option.def.name),
  );
  for (const option of options.sort(byOptionOrder)) {
    // Options from the command line keep the texts they were given with (a size as 2MiB, each value of a list)
    if (typeof option.value === 'boolean') words.push(option.value ? `--${option.key}` : `--no-${option.key}`);
    else for (const text of option.texts ?? [String(option.value)]) words.push(`--${option.key}=${quote(text)}`);
  }
  return [cmd, ...words, 'archive-get'].join(' ');
}

function byOptionOrder(a: ResolvedOption, b: ResolvedOption): number {
  if (a.def.name !== b.def.name) return a.def.name < b.def.name ? -1 : 1;
  return (a.index ?? 0) - (b.index ?? 0);
}

/**
 * The command PostgreSQL runs for restore_command: --cmd when set, else this very pgkeep (the CLI's
 * script, which is executable with a `#!/usr/bin/env node` line).
 */
export function defaultCmd(config: Config): string {
  return config.stringOr('cmd') ?? resolve(process.argv[1] ?? 'pgkeep');
}

/** The restore options of a configuration as a request. */
export function requestFromConfig(config: Config, cmd = defaultCmd(config)): RestoreRequest {
  const set = config.stringOr('set');
  const typeOption = config.resolved('type');
  const hash = (name: string) => ({ ...config.hash(name) });
  return {
    stanza: config.string('stanza'),
    repos: repoIndexes(config).map((index) => stanzaRepo(config, index)),
    pgPath: config.string('pg-path', defaultPgIndex(config)),
    set: set === undefined || set === 'latest' ? undefined : set,
    type: config.string('type') as RecoveryType,
    typeGiven: typeOption !== undefined && typeOption.source !== 'default',
    target: config.stringOr('target'),
    targetAction: config.stringOr('target-action') as TargetAction | undefined,
    targetTimeline: config.stringOr('target-timeline'),
    targetExclusive: config.booleanOr('target-exclusive') ?? false,
    tablespaceMap: hash('tablespace-map'),
    tablespaceMapAll: config.stringOr('tablespace-map-all'),
    linkMap: hash('link-map'),
    linkAll: config.boolean('link-all'),
    dbInclude: [...config.list('db-include')],
    dbExclude: [...config.list('db-exclude')],
    delta: config.boolean('delta'),
    force: config.boolean('force'),
    recoveryOptions: hash('recovery-option'),
    archiveMode: config.string('archive-mode') as 'off' | 'preserve',
    archiveGetCommand: archiveGetCommand(config, cmd),
    processMax: config.number('process-max'),
    jobRetry: config.number('job-retry'),
    jobRetryIntervalMs: Math.round(config.number('job-retry-interval') * 1000),
    bufferSize: config.number('buffer-size'),
  };
}
