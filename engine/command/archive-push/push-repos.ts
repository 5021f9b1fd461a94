import type { Config } from '../../config/config.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import type { WritableCompressType } from '../../filter/compress-type.js';
import { log } from '../../log/logger.js';
import { readPgControl } from '../../postgres/pg-control.js';
import { defaultPgIndex } from '../common/pg-index.js';
import { stanzaRepo } from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';
import { existsWarning, pushTarget, pushToTarget, type PushOptions, type PushTarget } from './push-file.js';

/** Everything a push needs besides the file, resolved once per command (or per batch in the background). */
export interface PushPlan {
  readonly options: PushOptions;
  /** Warn when a segment is already archived with the same content (archive-mode-check). */
  readonly modeCheck: boolean;
  readonly targets: readonly PushTarget[];
  /** Repositories that could not be checked: every push fails (after the others got the file), so PostgreSQL keeps it. */
  readonly failures: readonly RepoFailure[];
  /** Number of repositories configured: with one, its error is the command's error as it is. */
  readonly repoCount: number;
}

export interface RepoFailure {
  readonly index: number;
  readonly error: PgkeepError;
}

/** Push settings of the configuration (compression, header check, pg_control's identity). */
export async function pushOptions(config: Config): Promise<PushOptions> {
  // The option's supported values are exactly the types pgkeep writes: resolution refused the others.
  const compressType = config.string('compress-type') as WritableCompressType;
  const pgPath = config.stringOr('pg-path', defaultPgIndex(config));
  const control = pgPath === undefined ? undefined : await readPgControl(pgPath);
  return {
    compressType,
    compressLevel: config.numberOr('compress-level'),
    headerCheck: config.boolean('archive-header-check'),
    pg: control === undefined ? undefined : { systemId: control.systemId, version: control.version.version },
  };
}

/**
 * Checks every repository of the stanza (archive.info against the cluster), as pgBackRest's
 * archivePushCheck: a repository that fails is remembered, the others are used; none usable is
 * an error.
 */
export async function pushPlan(config: Config, options: PushOptions): Promise<PushPlan> {
  const stanza = config.string('stanza');
  const indexes = repoIndexes(config);
  const targets: PushTarget[] = [];
  const failures: RepoFailure[] = [];
  for (const index of indexes) {
    try {
      targets.push(await pushTarget(stanzaRepo(config, index, stanza), options.pg));
    } catch (error) {
      if (!(error instanceof PgkeepError) || indexes.length === 1) throw error;
      failures.push({ index, error });
    }
  }
  if (targets.length === 0) {
    throw new PgkeepError('RepoInvalid', `unable to find a valid repository:\n${failures.map(describeFailure).join('\n')}`, {
      hint: 'check that the stanza exists in each repository (stanza-create) and belongs to this cluster',
    });
  }
  return { options, modeCheck: config.boolean('archive-mode-check'), targets, failures, repoCount: indexes.length };
}

/**
 * Pushes one WAL file to every usable repository and returns the warnings to report. Each
 * repository gets the file it can take; then, when any repository failed (now or in the plan),
 * the first failure is thrown so that PostgreSQL keeps the file and calls again.
 */
export async function pushToRepos(walPath: string, name: string, plan: PushPlan): Promise<string[]> {
  const warnings: string[] = [];
  const failures = [...plan.failures];
  for (const target of plan.targets) {
    try {
      const outcome = await pushToTarget(walPath, target, plan.options);
      if (outcome === 'exists' && plan.modeCheck) warnings.push(existsWarning(name, target.repo.index));
    } catch (error) {
      if (!(error instanceof PgkeepError) || plan.repoCount === 1) throw error;
      failures.push({ index: target.repo.index, error });
    }
  }
  if (failures.length > 0) {
    for (const failure of failures) log.error(describeFailure(failure), failure.error.code);
    throw failures[0]!.error;
  }
  return warnings;
}

function describeFailure(failure: RepoFailure): string {
  return `repo${failure.index}: [${failure.error.errorName}] ${failure.error.message}`;
}
