/**
 * The JSON dialect of pgBackRest's info files and manifests, parsed and rendered by our own code
 * because JavaScript's JSON loses 64-bit integers (system identifiers such as
 * 7710482956265128591) and its string escaping differs from pgBackRest's.
 *
 * Grammar accepted (the one pgBackRest 2.45 accepts): objects, arrays, strings, `true`, `false`,
 * `null` and integers `-?[0-9]+` (no fractions or exponents: a value such as `1.5` is not valid,
 * which matters because the info-file parser decides where a key ends by trying to parse the rest
 * of the line). Integers beyond 2^53 become bigint so they survive a round trip.
 *
 * Rendering is compact, with object keys in byte order (strcmp), which is what the 2.45 readers
 * need (they scan object keys in order; see repo-format 2.6). Only `"`, `\`, `\n`, `\r`, `\t`, `\b`
 * and `\f` are escaped in strings, like pgBackRest; every other character is written raw.
 */

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** A syntax error at a character offset of the parsed text (the caller adds file and line). */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/** Parses one complete JSON value; whitespace (space, tab, CR, LF) may surround it. */
export function parseJson(text: string): JsonValue {
  const parser = new Parser(text);
  parser.skipSpace();
  const value = parser.value();
  parser.skipSpace();
  if (parser.pos < text.length) throw parser.error('unexpected text after the value');
  return value;
}

const MAX_SAFE_DIGITS = 15; // any integer of up to 15 digits is below 2^53
const UINT64_MAX = 2n ** 64n - 1n;
const INT64_MIN = -(2n ** 63n);

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  error(message: string): JsonSyntaxError {
    const near = this.pos < this.text.length ? `'${this.text.slice(this.pos, this.pos + 20)}'` : 'end of text';
    return new JsonSyntaxError(`${message} at offset ${this.pos} (${near})`, this.pos);
  }

  skipSpace(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.pos++;
    }
  }

  value(): JsonValue {
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b /* { */) return this.object();
    if (c === 0x22 /* " */) return this.string();
    if (c === 0x5b /* [ */) return this.array();
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.text.startsWith('true', this.pos)) return this.literal(4, true);
    if (this.text.startsWith('false', this.pos)) return this.literal(5, false);
    if (this.text.startsWith('null', this.pos)) return this.literal(4, null);
    throw this.error(this.pos < this.text.length ? 'expected a JSON value' : 'missing JSON value');
  }

  private literal<T extends JsonValue>(length: number, value: T): T {
    this.pos += length;
    return value;
  }

  private object(): JsonObject {
    this.pos++; // {
    const result: JsonObject = {};
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d /* } */) {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x22) throw this.error('expected a string key');
      const key = this.string();
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x3a /* : */) throw this.error("expected ':' after an object key");
      this.pos++;
      this.skipSpace();
      const value = this.value();
      setMember(result, key, value);
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x7d /* } */) return result;
      if (c !== 0x2c /* , */) {
        this.pos--;
        throw this.error("expected ',' or '}' in an object");
      }
    }
  }

  private array(): JsonValue[] {
    this.pos++; // [
    const result: JsonValue[] = [];
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x5d /* ] */) {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      result.push(this.value());
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x5d /* ] */) return result;
      if (c !== 0x2c /* , */) {
        this.pos--;
        throw this.error("expected ',' or ']' in an array");
      }
    }
  }

  private number(): number | bigint {
    const text = this.text;
    const start = this.pos;
    if (text.charCodeAt(this.pos) === 0x2d) this.pos++;
    const digitsStart = this.pos;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
    }
    const digits = this.pos - digitsStart;
    if (digits === 0) throw this.error('no digits in a number');
    // pgBackRest converts into a 64-bit integer: reject what cannot be one
    const literal = text.slice(start, this.pos);
    if (digits <= MAX_SAFE_DIGITS) return Number(literal);
    const big = BigInt(literal);
    if (big > UINT64_MAX || big < INT64_MIN) {
      this.pos = start;
      throw this.error('number out of 64-bit range');
    }
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }

  private string(): string {
    const text = this.text;
    const start = ++this.pos; // opening quote
    // Fast path: no escapes
    for (;;) {
      if (this.pos >= text.length) throw this.error('unterminated string');
      const c = text.charCodeAt(this.pos);
      if (c === 0x22) {
        this.pos++;
        return text.slice(start, this.pos - 1);
      }
      if (c === 0x5c /* \ */) break;
      this.pos++;
    }
    let result = text.slice(start, this.pos);
    for (;;) {
      if (this.pos >= text.length) throw this.error('unterminated string');
      const c = text.charCodeAt(this.pos);
      if (c === 0x22) {
        this.pos++;
        return result;
      }
      if (c !== 0x5c) {
        result += text[this.pos];
        this.pos++;
        continue;
      }
      const escape = text[this.pos + 1];
      this.pos += 2;
      switch (escape) {
        case '"':
          result += '"';
          break;
        case '\\':
          result += '\\';
          break;
        case '/':
          result += '/';
          break;
        case 'n':
          result += '\n';
          break;
        case 'r':
          result += '\r';
          break;
        case 't':
          result += '\t';
          break;
        case 'b':
          result += '\b';
          break;
        case 'f':
          result += '\f';
          break;
        case 'u': {
          const hex = text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.pos -= 2;
            throw this.error('invalid \\u escape');
          }
          result += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.pos -= 2;
          throw this.error('invalid escape character');
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Rendering

const NEEDS_ESCAPE = /["\\\n\r\t\b\f]/;
const ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** A JSON string the way pgBackRest writes it (only seven characters escaped). */
export function renderJsonString(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  return `"${value.replace(/["\\\n\r\t\b\f]/g, (c) => ESCAPES[c]!)}"`;
}

/** Compact JSON with object keys in byte order; undefined object members are left out. */
export function renderJson(value: JsonValue | undefined): string {
  switch (typeof value) {
    case 'string':
      return renderJsonString(value);
    case 'number':
      if (!Number.isInteger(value)) throw new TypeError(`cannot render ${value}: info files hold integers only`);
      return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((item) => renderJson(item)).join(',')}]`;
      return renderJsonObject(value);
    default:
      throw new TypeError(`cannot render a value of type ${typeof value} as JSON`);
  }
}

function renderJsonObject(value: JsonObject): string {
  const keys = Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .sort(compareBytes);
  let out = '{';
  for (let index = 0; index < keys.length; index++) {
    if (index > 0) out += ',';
    out += `${renderJsonString(keys[index]!)}:${renderJson(value[keys[index]!])}`;
  }
  return `${out}}`;
}

/**
 * strcmp order of the UTF-8 bytes of two strings, which is code point order. JavaScript's `<`
 * compares UTF-16 code units, which differs for characters above U+FFFF against U+E000..U+FFFF.
 */
export function compareBytes(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    let x = a.charCodeAt(index);
    let y = b.charCodeAt(index);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Move surrogates (code points above U+FFFF) after U+E000..U+FFFF
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

// ------------------------------------------------------------------------------------------------
// Typed access for the models

/** Sets an own member, also for the key `__proto__` (which must not replace the prototype). */
export function setMember(object: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An integer that fits a JavaScript number exactly; bigint beyond 2^53 is rejected. */
export function jsonSafeInteger(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  return undefined;
}

/** Any integer as bigint (system identifiers). */
export function jsonBigInt(value: JsonValue | undefined): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  return undefined;
}
