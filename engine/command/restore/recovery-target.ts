import { PgkeepError } from '../../error/pgkeep-error.js';
import { lsnFormat, lsnParse } from '../../postgres/lsn.js';

/**
 * Recovery targets as the plan checks them. PostgreSQL itself parses the target text it is given
 * (recovery_target_time is read in the server's TimeZone); these parsers serve backup selection and
 * the reachability checks only, and follow pgBackRest where it parses (time and lsn).
 */

export interface TargetTime {
  /** Microseconds since the Unix epoch (WAL commit times have microseconds). */
  readonly micros: number;
  /** Whole seconds, as pgBackRest compares with backup stop times. */
  readonly seconds: number;
  /** No zone was given: taken as local time here, as pgBackRest does; PostgreSQL uses its TimeZone setting. */
  readonly local: boolean;
}

// pgBackRest's format (YYYY-MM-DD HH:MM:SS, optional fraction, optional +/-HH[[:]MM]) plus the ISO 'T' and 'Z'.
const TIME_PATTERN =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]{1,6}))?(?:(Z)|([+-])([0-9]{2})(?::?([0-9]{2}))?)?$/;

/** Parses a time target; undefined when it is not in a format the plan understands. */
export function parseTargetTime(text: string): TargetTime | undefined {
  const match = TIME_PATTERN.exec(text.trim());
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = match[7] === undefined ? 0 : Number(match[7].padEnd(6, '0'));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  let epochMs: number;
  const local = match[8] === undefined && match[9] === undefined;
  if (local) epochMs = new Date(year, month - 1, day, hour, minute, second).getTime();
  else {
    const sign = match[9] === '-' ? -1 : 1;
    const offsetMinutes = match[8] !== undefined ? 0 : sign * (Number(match[10]) * 60 + Number(match[11] ?? 0));
    epochMs = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  }
  return { micros: epochMs * 1000 + fraction, seconds: Math.floor(epochMs / 1000), local };
}

/** Formats epoch seconds (with a fraction) as UTC text PostgreSQL accepts: `2026-11-21 05:01:02.123456+00`. */
export function formatTargetTime(epochSeconds: number): string {
  const micros = Math.round(epochSeconds * 1_000_000);
  const date = new Date(Math.floor(micros / 1000));
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  const fraction = micros % 1_000_000;
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}` +
    `${fraction === 0 ? '' : `.${pad(fraction, 6).replace(/0+$/, '')}`}+00`
  );
}

/** Parses an lsn target; Format error with a hint when it is not an LSN. */
export function parseTargetLsn(text: string): bigint {
  try {
    return lsnParse(text.trim());
  } catch (error) {
    throw new PgkeepError('Format', `recovery target '${text}' is not a valid LSN`, {
      hint: 'an LSN target is two hex numbers like 0/3000028 (pg_current_wal_lsn() shows one)',
      cause: error,
    });
  }
}

/** A transaction id target: 32-bit, or a 64-bit xid8 (epoch in the high bits) as PostgreSQL 13+ accepts. */
export function parseTargetXid(text: string): bigint | undefined {
  return /^[0-9]+$/.test(text.trim()) ? BigInt(text.trim()) : undefined;
}

export type TimelineTarget =
  { readonly kind: 'current' } | { readonly kind: 'latest' } | { readonly kind: 'id'; readonly id: number };

/** --target-timeline as PostgreSQL reads recovery_target_timeline: current, latest, or a number (decimal or 0x hex). */
export function parseTargetTimeline(text: string | undefined): TimelineTarget {
  if (text === undefined || text === 'latest') return { kind: 'latest' };
  if (text === 'current') return { kind: 'current' };
  const id = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text.slice(2), 16) : /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id) || id < 1 || id > 0xffffffff) {
    throw new PgkeepError('OptionInvalidValue', `target timeline '${text}' is not 'current', 'latest' or a timeline number`, {
      hint: 'timelines are numbered from 1: the first 8 hex digits of a WAL file name are its timeline',
    });
  }
  return { kind: 'id', id };
}

export function describeLsn(lsn: bigint): string {
  return lsnFormat(lsn);
}
