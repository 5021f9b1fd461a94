import type { CommandName } from '../config/command-table.js';
import type { Config } from '../config/config.js';
import { PgkeepError } from '../error/pgkeep-error.js';
import { log } from '../log/logger.js';
import type { CommandProgress, CommandResult } from '../command/command.js';
import { commandRegistry } from '../command/registry.js';
import type { Progress, StartJob } from './api.js';

export interface JobRunContext {
  readonly signal: AbortSignal;
  readonly onProgress: (progress: Progress) => void;
}

export interface JobOutcome {
  readonly summary: string;
  readonly backupLabel?: string | undefined;
}

/**
 * Runs a job's command in this process through the same registry and configuration resolution
 * as the CLI, so a backup started from the app is the backup `pgkeep backup` takes: same options,
 * same checks (a command that refuses root refuses it here too), same worker processes.
 */
export async function runJob(
  host: { configFor(command: CommandName, stanza: string, args?: readonly string[]): Config },
  request: StartJob,
  context: JobRunContext,
): Promise<JobOutcome> {
  const args =
    request.kind === 'backup' ? [`--type=${request.type}`] : request.kind === 'expire' && request.dryRun ? ['--dry-run'] : [];
  const entry = commandRegistry.get(request.kind);
  if (entry === undefined) throw new PgkeepError('CommandInvalid', `this pgkeep cannot run ${request.kind} jobs`);
  const config = host.configFor(request.kind, request.stanza, args);
  if (entry.refuseRoot && process.getuid?.() === 0 && config.booleanOr('allow-root') !== true) {
    throw new PgkeepError('RootRefused', `${request.kind} refuses to run as root`, {
      hint: 'run the app as the user that owns the database (usually postgres): files written as root could not be changed by it later',
    });
  }
  log.addSecrets(config.secrets());
  log.info(`${request.kind} of stanza '${request.stanza}' started${args.length === 0 ? '' : ` (${args.join(' ')})`}`);

  let outcome: CommandResult | undefined;
  const module = await entry.load();
  const code = await module.run({
    config,
    // What the command prints (an expire --dry-run's list of what would go) goes to the job's log.
    out: (text) => {
      for (const line of text.split('\n')) if (line.trim() !== '') log.info(line);
    },
    signal: context.signal,
    onProgress: (progress: CommandProgress) => context.onProgress(progress),
    onResult: (result) => {
      outcome = result;
    },
  });
  if (code !== 0) throw new PgkeepError('Command', `${request.kind} ended with exit code ${code}`);
  return outcome ?? { summary: `${request.kind} of stanza '${request.stanza}' completed` };
}
