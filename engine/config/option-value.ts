import { PgkeepError } from '../error/pgkeep-error.js';
import type { OptionDef, OptionValue } from './option-types.js';

/**
 * Converts option text into a typed value, checking type, range and allowed values. `name` is the
 * option as the user wrote it and `place` where (file:line, "command line", an environment
 * variable), so each error says what, where, and what would be valid.
 */
export interface ValueContext {
  readonly name: string;
  readonly place: string;
  readonly allow?: readonly string[] | undefined;
}

const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

export function parseSize(text: string): number | undefined {
  const match = /^([0-9]+)(kib|kb|k|mib|mb|m|gib|gb|g|tib|tb|t|pib|pb|p|b)?$/.exec(text.toLowerCase());
  if (match === null) return undefined;
  const value = Number(match[1]) * SIZE_UNITS[(match[2] ?? 'b')[0]!]!;
  return Number.isSafeInteger(value) ? value : undefined;
}

export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['PiB', 1024 ** 5],
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

export function parseOptionValue(def: OptionDef, texts: readonly string[], context: ValueContext): OptionValue {
  if (def.type === 'list') {
    for (const text of texts) if (text === '') throw invalid(context, text, 'an empty value');
    return [...texts];
  }
  if (def.type === 'hash') return parseHash(texts, context);

  if (texts.length > 1) {
    throw new PgkeepError('OptionInvalid', `${context.place}: option '${context.name}' is set more than once`, {
      hint: 'only list and key=value options may be repeated: keep one value',
    });
  }
  const text = texts[0] ?? '';
  if (text === '') throw invalid(context, text, 'an empty value', 'give a value or remove the option');

  switch (def.type) {
    case 'boolean':
      if (text === 'y') return true;
      if (text === 'n') return false;
      throw invalid(context, text, 'not y or n', `boolean options take 'y' or 'n', as in pgBackRest`);
    case 'integer': {
      if (!/^-?[0-9]+$/.test(text)) throw invalid(context, text, 'not an integer');
      return checkRange(def, Number(text), text, context);
    }
    case 'size': {
      const bytes = parseSize(text);
      if (bytes === undefined)
        throw invalid(
          context,
          text,
          'not a size',
          'write a number of bytes with an optional unit, for example 1048576, 512KiB or 4MiB',
        );
      if (def.allow !== undefined && !def.allow.some((allowed) => parseSize(allowed) === bytes)) {
        throw invalid(context, text, 'not an allowed size', `allowed: ${def.allow.join(', ')}`);
      }
      return checkRange(def, bytes, text, context);
    }
    case 'time': {
      if (!/^[0-9]+(\.[0-9]+)?$/.test(text))
        throw invalid(context, text, 'not a number of seconds', 'write seconds, for example 60 or 0.5');
      return checkRange(def, Number(text), text, context);
    }
    case 'enum': {
      const allow = context.allow ?? def.allow ?? [];
      if (!allow.includes(text)) throw invalid(context, text, 'not allowed', `allowed: ${allow.join(', ')}`);
      return text;
    }
    case 'path': {
      if (!text.startsWith('/')) throw invalid(context, text, 'not an absolute path', 'paths must begin with /');
      if (text.includes('//')) throw invalid(context, text, 'a path containing //', 'remove the doubled slash');
      return text.length > 1 && text.endsWith('/') ? text.slice(0, -1) : text;
    }
    case 'string':
      return text;
  }
}

function parseHash(texts: readonly string[], context: ValueContext): Record<string, string> {
  const result: Record<string, string> = {};
  for (const text of texts) {
    const equal = text.indexOf('=');
    // OptionInvalid, not ...Value: pgBackRest's code for a malformed key/value pair
    if (equal <= 0) throw invalid(context, text, 'not key=value', `write ${context.name}=key=value`, 'OptionInvalid');
    result[text.slice(0, equal)] = text.slice(equal + 1);
  }
  return result;
}

function checkRange(def: OptionDef, value: number, text: string, context: ValueContext): number {
  if (def.range !== undefined && (value < def.range[0] || value > def.range[1])) {
    const [low, high] = def.type === 'size' ? def.range.map(formatSize) : def.range;
    throw new PgkeepError('OptionInvalidValue', `${context.place}: '${text}' is out of range for option '${context.name}'`, {
      hint: `allowed: ${low} to ${high}`,
    });
  }
  return value;
}

function invalid(
  context: ValueContext,
  text: string,
  what: string,
  hint?: string,
  errorName: 'OptionInvalidValue' | 'OptionInvalid' = 'OptionInvalidValue',
): PgkeepError {
  return new PgkeepError(errorName, `${context.place}: '${text}' is ${what} for option '${context.name}'`, { hint });
}
