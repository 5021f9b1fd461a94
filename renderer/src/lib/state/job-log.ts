import type { LogLine } from '../../../../engine/service/api.js';

/** Lines kept per job in the renderer; the oldest go first. */
export const MAX_LOG_LINES = 2000;

const key = (line: LogLine) => `${line.time}\u0000${line.level}\u0000${line.message}`;

/**
 * A job event carries only the last log lines, so consecutive snapshots overlap. Appends what is
 * new in `incoming` to `known`: the lines after the last known line, or, when the snapshots no
 * longer overlap (many lines between two events), the incoming lines not already at the end.
 * When `incoming` reaches further back than `known` (getJob's whole log after a reload found the
 * job through listJobs' last lines), the older lines are put in front.
 */
export function mergeLog(known: readonly LogLine[], incoming: readonly LogLine[]): LogLine[] {
  if (known.length === 0) return incoming.slice(-MAX_LOG_LINES);
  if (incoming.length === 0) return [...known];
  const last = key(known[known.length - 1]!);
  let at = -1;
  for (let i = incoming.length - 1; i >= 0; i--) {
    if (key(incoming[i]!) === last) {
      at = i;
      break;
    }
  }
  let added: readonly LogLine[];
  let older: readonly LogLine[] = [];
  if (at >= 0) {
    added = incoming.slice(at + 1);
    const first = key(known[0]!);
    const start = incoming.findIndex((line) => key(line) === first);
    if (start > 0 && start <= at) older = incoming.slice(0, start);
  } else {
    const recent = new Set(known.slice(-incoming.length).map(key));
    added = incoming.filter((line) => !recent.has(key(line)));
  }
  const merged = [...older, ...known, ...added];
  return merged.length > MAX_LOG_LINES ? merged.slice(-MAX_LOG_LINES) : merged;
}
