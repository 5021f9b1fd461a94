import type { BackupSummary, BackupType } from '../../../engine/service/api.js';

/** Geometry of the dashboard's backup timeline, kept apart from the SVG so it can be reasoned about. */
export interface TimelineMark {
  readonly label: string;
  readonly type: BackupType;
  readonly x: number;
  /** Epoch seconds the backup stopped (the point it restores to at the earliest). */
  readonly time: number;
}

export interface Timeline {
  readonly width: number;
  readonly from: number;
  readonly to: number;
  readonly marks: readonly TimelineMark[];
  readonly band: { readonly x: number; readonly width: number } | null;
}

/** The shortest span shown, so that one fresh backup does not sit alone at the left edge. */
const MIN_SPAN = 24 * 3600;

/**
 * Places each backup at its stop time on a line from the oldest thing shown (backup or start of
 * the recoverable window) to now, with the recoverable window as a band.
 */
export function layoutTimeline(
  backups: readonly BackupSummary[],
  recoverable: { from: number; to: number } | null,
  nowSeconds: number,
  width: number,
  margin = 6,
): Timeline {
  const starts = backups.map((backup) => backup.stopTime);
  if (recoverable !== null) starts.push(recoverable.from);
  const oldest = starts.length === 0 ? nowSeconds : Math.min(...starts);
  const to = Math.max(nowSeconds, ...backups.map((backup) => backup.stopTime), recoverable?.to ?? nowSeconds);
  const span = Math.max(MIN_SPAN, (to - oldest) * 1.04);
  const from = to - span;
  const inner = width - 2 * margin;
  const x = (time: number) => margin + ((time - from) / span) * inner;
  return {
    width,
    from,
    to,
    marks: backups.map((backup) => ({ label: backup.label, type: backup.type, time: backup.stopTime, x: x(backup.stopTime) })),
    band: recoverable === null ? null : { x: x(recoverable.from), width: Math.max(1, x(recoverable.to) - x(recoverable.from)) },
  };
}
