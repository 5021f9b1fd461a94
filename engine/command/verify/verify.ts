import { PgkeepError } from '../../error/pgkeep-error.js';
import { log } from '../../log/logger.js';
import type { CommandContext } from '../command.js';
import { stanzaRepo } from '../common/stanza-repo.js';
import { repoIndexes } from '../common/storages.js';
import { workerSpawner } from '../common/workers.js';
import { verifyRepo } from './verify-repo.js';
import { archiveHasErrors, backupHasErrors, type VerifyReport } from './verify-report.js';
import { renderVerifyText } from './verify-text.js';

/**
 * `pgkeep verify`: checks the repository of a stanza (verify-repo.ts) and reports per archive id
 * and per backup. --output=text prints pgBackRest's layout, --output=json the report object
 * (verify-report.ts), --output=none (the default) only logs the text at info level, as pgBackRest.
 *
 * Exit code: 0 when the status is ok; 185 (VerifyInvalid) when anything is invalid, after the
 * report was printed. pgBackRest 2.45 exits 0 either way, which leaves scripts blind; pgkeep's rule
 * is that status "error" in the report and a non-zero exit code always go together.
 */
export async function run({ config, out, signal }: CommandContext): Promise<number> {
  // --repo, else the first configured repository (as pgBackRest: verify checks one repository)
  const report = await verifyRepo(stanzaRepo(config, repoIndexes(config)[0]!), {
    set: config.stringOr('set'),
    processMax: config.number('process-max'),
    jobRetry: config.number('job-retry'),
    jobRetryIntervalMs: Math.round(config.number('job-retry-interval') * 1000),
    workers: { spawn: workerSpawner() },
    signal,
  });
  const text = renderVerifyText(report, config.boolean('verbose'));
  if (text !== '') log.info(text);
  const output = config.string('output');
  if (output === 'text' && text !== '') out(`${text}\n`);
  if (output === 'json') out(`${JSON.stringify(report)}\n`);
  if (report.status === 'error') {
    throw new PgkeepError(
      'VerifyInvalid',
      `stanza '${report.stanza}' on repo${report.repo} failed verification: ${summary(report)}`,
      {
        hint:
          output === 'none'
            ? 'run verify with --output=text --verbose to see every archive id and backup'
            : 'the report above says what is wrong; --log-level-console=info names every invalid file',
      },
    );
  }
  return 0;
}

/** One line for the error message: what is wrong, counted. */
export function summary(report: VerifyReport): string {
  const parts: string[] = [];
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  if (report.problems.length > 0) parts.push(plural(report.problems.length, 'repository problem'));
  const archives = report.archives.filter(archiveHasErrors);
  if (archives.length > 0) parts.push(`WAL of ${plural(archives.length, 'archive id')} invalid or incomplete`);
  const backups = report.backups.filter(backupHasErrors);
  if (backups.length > 0) parts.push(`${plural(backups.length, 'backup')} of ${report.backups.length} invalid`);
  return parts.join(', ');
}
