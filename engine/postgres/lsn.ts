import { PgkeepError } from '../error/pgkeep-error.js';

/**
 * Log sequence numbers: 64-bit WAL positions, written by PostgreSQL as two hex halves
 * `%X/%X` (`0/3000028`, `1A/FF000000`). They are bigint here because they use all 64 bits.
 */

const LSN_PATTERN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
export const LSN_MAX = 0xffffffffffffffffn;

/** Parses `0/3000028` (either case, as PostgreSQL's pg_lsn input accepts). */
export function lsnParse(text: string): bigint {
  const match = LSN_PATTERN.exec(text);
  if (match === null) {
    throw new PgkeepError('Format', `'${text}' is not a valid LSN`, {
      hint: 'an LSN is two hex numbers of up to 8 digits, like 0/3000028',
    });
  }
  return (BigInt(`0x${match[1]!}`) << 32n) | BigInt(`0x${match[2]!}`);
}

/** Formats as PostgreSQL does: upper-case hex, no leading zeros (`0/3000028`). */
export function lsnFormat(lsn: bigint): string {
  if (lsn < 0n || lsn > LSN_MAX) throw new PgkeepError('Assert', `LSN ${lsn} is outside the 64-bit range`);
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
