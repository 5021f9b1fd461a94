import { PgkeepError } from '../../error/pgkeep-error.js';
import { isJsonObject, jsonBigInt, setMember, type JsonObject, type JsonValue } from './json-value.js';

/**
 * Typed reads of JSON values from info files and manifests. A missing required key or a value of
 * the wrong type is FileInvalid naming the file, the section and the key.
 */
export class FieldContext {
  constructor(
    readonly file: string,
    /** Where in the file, e.g. `[backup:current] 20261121-045159F`. */
    readonly place: string,
  ) {}

  error(message: string): PgkeepError {
    return new PgkeepError('FileInvalid', `${message} in ${this.place} of '${this.file}'`, {
      hint: 'the file was not written by a compatible pgBackRest or pgkeep version, or was edited',
    });
  }

  object(value: JsonValue | undefined): JsonObject {
    if (!isJsonObject(value)) throw this.error('expected a JSON object');
    return value;
  }

  string(value: JsonValue | undefined, key: string): string {
    if (typeof value !== 'string') throw this.missingOr(value, key, 'a string');
    return value;
  }

  optionalString(value: JsonValue | undefined, key: string): string | undefined {
    return value === undefined ? undefined : this.string(value, key);
  }

  /** A string or null (archive start/stop of offline backups); absent reads as null. */
  nullableString(value: JsonValue | undefined, key: string): string | null {
    return value === undefined || value === null ? null : this.string(value, key);
  }

  integer(value: JsonValue | undefined, key: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      if (typeof value === 'bigint') throw this.error(`value of '${key}' is too large`);
      throw this.missingOr(value, key, 'an integer');
    }
    return value;
  }

  optionalInteger(value: JsonValue | undefined, key: string): number | undefined {
    return value === undefined ? undefined : this.integer(value, key);
  }

  bigint(value: JsonValue | undefined, key: string): bigint {
    const result = jsonBigInt(value);
    if (result === undefined) throw this.missingOr(value, key, 'an integer');
    return result;
  }

  boolean(value: JsonValue | undefined, key: string): boolean {
    if (typeof value !== 'boolean') throw this.missingOr(value, key, 'true or false');
    return value;
  }

  optionalBoolean(value: JsonValue | undefined, key: string): boolean | undefined {
    return value === undefined ? undefined : this.boolean(value, key);
  }

  /** An owner name, or false for an id that had no name. */
  owner(value: JsonValue | undefined, key: string): string | false {
    if (value === false || typeof value === 'string') return value;
    throw this.missingOr(value, key, 'a name or false');
  }

  /** An octal mode string such as "0700". */
  mode(value: JsonValue | undefined, key: string): number {
    const text = this.string(value, key);
    if (!/^[0-7]{1,6}$/.test(text)) throw this.error(`value '${text}' of '${key}' is not an octal mode`);
    return parseInt(text, 8);
  }

  private missingOr(value: JsonValue | undefined, key: string, expected: string): PgkeepError {
    return value === undefined ? this.error(`missing key '${key}'`) : this.error(`value of '${key}' is not ${expected}`);
  }
}

/** The keys of an object that are not in `known`, or undefined when there are none. */
export function unknownKeys(object: JsonObject, known: ReadonlySet<string>): JsonObject | undefined {
  let result: JsonObject | undefined;
  for (const key of Object.keys(object)) {
    if (known.has(key)) continue;
    result ??= {};
    setMember(result, key, object[key]!);
  }
  return result;
}

/** Mode as pgBackRest writes it: `%04o`. */
export function formatMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
