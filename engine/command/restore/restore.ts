import { join } from 'node:path';

import { log } from '../../log/logger.js';
import { PosixStorage } from '../../storage/posix/posix-storage.js';
import type { CommandContext } from '../command.js';
import { workerSpawner } from '../common/workers.js';
import { prestartWorkers } from '../../exec/prestart.js';
import type { WorkerSource } from '../../exec/pool.js';
import { executeRestore } from './execute.js';
import { planRestore } from './plan.js';
import { renderPlanText } from './plan-text.js';
import { problemError } from './problems.js';
import { requestFromConfig, type RestoreRequest } from './request.js';

/**
 * `pgkeep restore`: plans the restore (plan.ts), then executes the plan (execute.ts). With
 * --dry-run the plan is printed (text, or the RestorePlanJson with --output=json) and nothing is
 * written; a plan with problems then ends with the first problem's error, after printing.
 */
export async function run(context: CommandContext): Promise<number> {
  const request = requestFromConfig(context.config);
  const dryRun = context.config.booleanOr('dry-run') ?? false;
  // The workers start while the plan is made: a delta's checksums, or the copy, find them ready.
  const started = dryRun && !request.delta ? undefined : prestartWorkers(workerSpawner(), request.processMax, ['restore-file']);
  try {
    return await planAndRestore(context, request, dryRun, { spawn: started?.spawn ?? workerSpawner() });
  } finally {
    started?.dispose();
  }
}

async function planAndRestore(
  { config, out, signal }: CommandContext,
  request: RestoreRequest,
  dryRun: boolean,
  workers: WorkerSource,
): Promise<number> {
  const plan = await planRestore(request, { workers, signal });
  for (const warning of plan.json.warnings) log.warn(warning);
  for (const note of plan.json.notes) log.info(note);

  if (dryRun) {
    out(config.stringOr('output') === 'json' ? JSON.stringify(plan.json) + '\n' : renderPlanText(plan.json));
  }
  const [first, ...others] = plan.json.problems;
  if (first !== undefined) {
    for (const other of others) log.error(`${other.message}${other.hint === null ? '' : `\nHINT: ${other.hint}`}`, other.code);
    throw problemError(first);
  }
  if (dryRun) return 0;

  // As pgBackRest: the stanza's archive spool goes, so old acknowledgements cannot affect the new cluster.
  // (spool-path has a default for restore; a spool that cannot be removed is no reason to stop.)
  await new PosixStorage({ basePath: config.string('spool-path') })
    .pathRemove(join('archive', request.stanza), { recurse: true })
    .catch((error: unknown) => log.warn(`unable to remove the archive spool: ${(error as Error).message}`));

  await executeRestore(plan, { workers, signal });
  return 0;
}
