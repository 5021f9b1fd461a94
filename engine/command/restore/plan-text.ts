import { formatBytes, formatTime } from '../info/info-text.js';
import type { RestorePlanJson } from './plan-json.js';

/** How many entries of each list the text shows before "... and N more". */
const LIST_LIMIT = 20;

/**
 * `restore --dry-run` for people: the backup set, the targets after the maps, what happens to the
 * files (counts and bytes; the removals and the first of each action listed), space, WAL and the
 * target, the recovery settings, and the problems that stop the restore. `--output=json` prints
 * the whole plan, every file included.
 */
export function renderPlanText(plan: RestorePlanJson): string {
  const lines: string[] = [];
  const { backup, summary } = plan;
  lines.push(
    `restore plan for stanza ${plan.stanza}: ${plan.ok ? 'ready' : `${plan.problems.length} problem${plan.problems.length === 1 ? '' : 's'}, the restore would not run`}`,
  );
  lines.push('');
  if (backup === null) lines.push('backup set: none');
  else {
    lines.push(`backup set: ${backup.label} (${backup.type}, repo${backup.repo}, ${describeSelection(backup.selectedBy)})`);
    lines.push(`    timestamp start/stop: ${formatTime(backup.timestampStart)} / ${formatTime(backup.timestampStop)}`);
    if (backup.lsnStart !== null)
      lines.push(
        `    lsn start/stop: ${backup.lsnStart} / ${backup.lsnStop ?? ''}, wal start/stop: ${backup.archiveStart ?? ''} / ${backup.archiveStop ?? ''}`,
      );
    lines.push(`    PostgreSQL ${backup.pgVersion}, system-id ${backup.systemId}, compress ${backup.compressType}`);
  }

  if (plan.targets.length > 0) {
    lines.push('', 'targets:');
    for (const target of plan.targets) {
      const where = target.file === null ? target.path : `${target.path}/${target.file}`;
      const mapped = target.mappedBy === 'backup' ? '' : ` (${target.mappedBy}, was ${target.originalPath})`;
      const state = !target.exists ? 'created' : target.empty ? 'exists, empty' : 'exists, not empty';
      lines.push(
        `    ${target.name}${target.tablespaceName === null ? '' : ` [${target.tablespaceName}]`} => ${where}${mapped}: ${state}`,
      );
    }
  }

  if (plan.selective !== null) {
    const name = (db: { id: number; name: string | null }) => (db.name === null ? String(db.id) : `${db.name} (${db.id})`);
    const restored = plan.selective.databases.filter((db) => !db.zeroed);
    const zeroed = plan.selective.databases.filter((db) => db.zeroed);
    lines.push('', 'databases (selective restore):');
    lines.push(`    restored: ${restored.map(name).join(', ') || 'none'}`);
    lines.push(`    zeroed: ${zeroed.map(name).join(', ') || 'none (all user databases are selected)'}`);
    if (zeroed.length > 0) lines.push('    drop the zeroed databases once recovery is done: they cannot be used');
  }

  if (plan.files.length > 0) {
    lines.push('', 'files:');
    lines.push(
      `    ${summary.files.total} files, ${formatBytes(summary.bytes.total)}: create ${summary.files.create}, replace ${summary.files.replace}, keep ${summary.files.keep} (${formatBytes(summary.bytes.keep)})${summary.files.zeroed === 0 ? '' : `; zeroed ${summary.files.zeroed} (excluded databases)`}`,
    );
    lines.push(
      `    fetch ${summary.fetchFiles} files: ${formatBytes(summary.bytes.fetch)} (${formatBytes(summary.bytes.fetchRepo)} from the repository)`,
    );
    lines.push(
      `    paths to create ${summary.pathsCreate}, links to create ${summary.linksCreate}, removals ${summary.removals}`,
    );
    const replaced = plan.files.filter((file) => file.action === 'replace');
    if (replaced.length > 0 && replaced.length < plan.files.length) {
      lines.push('    replace:');
      lines.push(...limited(replaced.map((file) => `        ${file.path} (${formatBytes(file.size)}, ${file.reason})`)));
    }
    if (plan.removals.length > 0) {
      lines.push('    remove:');
      lines.push(...limited(plan.removals.map((removal) => `        ${removal.path} (${removal.type}: ${removal.reason})`)));
    }
    for (const link of plan.links)
      lines.push(`    link ${link.path} -> ${link.destination}${link.action === 'keep' ? ' (exists)' : ''}`);
  }

  if (plan.space.length > 0) {
    lines.push('', 'space:');
    for (const entry of plan.space) {
      lines.push(
        `    ${entry.paths.join(', ')}: ${formatBytes(entry.needed)} needed, ${entry.free === null ? 'free space unknown' : `${formatBytes(entry.free)} free`}${entry.enough ? '' : ' - NOT ENOUGH'}`,
      );
    }
  }

  if (plan.wal !== null) {
    const wal = plan.wal;
    lines.push('', 'wal:');
    lines.push(
      `    timeline ${wal.backupTimeline}${wal.targetTimeline === wal.backupTimeline ? '' : ` to ${wal.targetTimeline} (via ${wal.timelines.join(', ')})`}, archive ${wal.archiveIds.join(', ')}`,
    );
    lines.push(`    consistency needs ${wal.consistency.first} to ${wal.consistency.last}`);
    lines.push(
      `    recovery reads ${wal.needed.first} to ${wal.needed.last ?? 'the target'}${wal.needed.count === null ? '' : ` (${wal.needed.count} segments)`}`,
    );
    if (wal.endOfArchive !== null) {
      const end = wal.endOfArchive;
      lines.push(
        `    end of archive: ${end.segment}, lsn ${end.lsn}${end.lastCommitTime === null ? '' : `, last transaction ${formatTime(Math.floor(end.lastCommitTime))}`}${end.gapBefore === null ? '' : `, ${end.gapBefore} MISSING before later WAL`}`,
      );
    }
    if (wal.missing.length > 0) lines.push(`    missing: ${wal.missing.join(', ')}`);
    const target = wal.target;
    lines.push(
      `    target ${target.type}${target.value === null ? '' : ` '${target.value}'`}: ${target.status} - ${target.detail}`,
    );
    if (target.recoverable !== null) lines.push(`    recoverable: ${target.recoverable.from} to ${target.recoverable.to}`);
  }

  lines.push('', `recovery (${plan.recovery.type}):`);
  if (plan.recovery.file === null) lines.push('    existing recovery settings are kept (preserve)');
  else {
    for (const setting of plan.recovery.settings) lines.push(`    ${setting.key} = '${setting.value}'`);
    if (plan.recovery.settings.length === 0) lines.push(`    no settings written to ${plan.recovery.file}`);
    lines.push(`    signal file: ${plan.recovery.signalFile ?? 'none'}`);
  }

  if (plan.warnings.length > 0) lines.push('', 'warnings:', ...plan.warnings.map((warning) => `    ${warning}`));
  if (plan.notes.length > 0) lines.push('', 'notes:', ...plan.notes.map((note) => `    ${note}`));
  if (plan.problems.length > 0) {
    lines.push('', 'problems:');
    for (const found of plan.problems) {
      lines.push(`    [${String(found.code).padStart(3, '0')}] ${found.error}: ${found.message}`);
      if (found.hint !== null) lines.push(`        HINT: ${found.hint}`);
    }
  }
  return lines.join('\n') + '\n';
}

function describeSelection(selectedBy: 'set' | 'latest' | 'target'): string {
  return selectedBy === 'set' ? 'chosen with --set' : selectedBy === 'latest' ? 'the latest' : 'the newest before the target';
}

function limited(lines: readonly string[]): string[] {
  if (lines.length <= LIST_LIMIT) return [...lines];
  return [...lines.slice(0, LIST_LIMIT), `        ... and ${lines.length - LIST_LIMIT} more (--output=json lists all)`];
}
