import { describe, expect, it } from 'vitest';

import {
  compareBytes,
  isJsonObject,
  jsonBigInt,
  jsonSafeInteger,
  JsonSyntaxError,
  parseJson,
  renderJson,
  renderJsonString,
  setMember,
  type JsonObject,
} from '../../../../../engine/repo/info/json-value.js';

describe('parseJson', () => {
  it('keeps 64-bit integers exact as bigint and small ones as number', () => {
    const value = parseJson('{"db-id":7710482956265128591,"db-version":"15"}') as JsonObject;
    expect(value['db-id']).toBe(7710482956265128591n);
    expect(renderJson(value)).toBe('{"db-id":7710482956265128591,"db-version":"15"}');
    expect(parseJson('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseJson('9007199254740992')).toBe(9007199254740992n);
    expect(parseJson('-9007199254740993')).toBe(-9007199254740993n);
    expect(parseJson('18446744073709551615')).toBe(18446744073709551615n);
    expect(parseJson('0000000000000000012')).toBe(12);
    expect(parseJson('-5')).toBe(-5);
  });

  it('rejects what pgBackRest rejects: fractions, exponents, out-of-range integers, bad escapes', () => {
    for (const text of [
      '"a\\n',
      '1.5',
      '1e3',
      '18446744073709551616',
      '-9223372036854775809',
      '-',
      '"\\x"',
      '"\\u12"',
      '"abc',
      'tru',
      '{"a" 1}',
      '{1:2}',
      '[1 2]',
      '{"a":1 "b":2}',
      '',
      '  ',
      '1 2',
      '+1',
      'nul',
    ]) {
      expect(() => parseJson(text), text).toThrow(JsonSyntaxError);
    }
  });

  it('parses every JSON type with whitespace, escapes and unicode', () => {
    expect(parseJson(' { "a" : [ 1 , true , false , null , "x" ] , "b" : { } , "c" : [ ] } ')).toEqual({
      a: [1, true, false, null, 'x'],
      b: {},
      c: [],
    });
    expect(parseJson('"a\\"b\\\\c\\/d\\ne\\rf\\tg\\bh\\fi\\u0041\\u00e9"')).toBe('a"b\\c/d\ne\rf\tg\bh\fiAé');
    expect(parseJson('"é✓😀"')).toBe('é✓😀');
  });

  it('makes __proto__ an own member instead of replacing the prototype', () => {
    const value = parseJson('{"__proto__":{"x":1},"a":2}') as JsonObject;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(renderJson(value)).toBe('{"__proto__":{"x":1},"a":2}');
    const target: JsonObject = {};
    setMember(target, '__proto__', 1);
    setMember(target, 'b', 2);
    expect(Object.keys(target)).toEqual(['__proto__', 'b']);
  });

  it('reports the offset of a syntax error', () => {
    try {
      parseJson('{"a":1,"b":x}');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(JsonSyntaxError);
      expect((error as JsonSyntaxError).offset).toBe(11);
      expect((error as Error).message).toMatch(/expected a JSON value at offset 11 \('x}'\)/);
    }
  });
});

describe('renderJson', () => {
  it('escapes only the seven characters pgBackRest escapes', () => {
    expect(renderJsonString('a"b\\c\nd\re\tf\bg\fh')).toBe('"a\\"b\\\\c\\nd\\re\\tf\\bg\\fh"');
    // Other control characters and non-ASCII are written raw (JSON.stringify would write \u0001)
    expect(renderJsonString('\u0001é/')).toBe('"\u0001é/"');
    expect(renderJsonString('plain')).toBe('"plain"');
  });

  it('writes compact JSON with object keys in byte order and leaves out undefined members', () => {
    expect(renderJson({ b: 1, a: [true, null, 'x', { d: 1n, c: -2 }], e: undefined } as unknown as JsonObject)).toBe(
      '{"a":[true,null,"x",{"c":-2,"d":1}],"b":1}',
    );
    expect(renderJson(2 ** 60)).toBe('1152921504606846976');
    expect(() => renderJson(1.5)).toThrow(/integers only/);
    expect(() => renderJson(undefined)).toThrow(/type undefined/);
  });

  it('sorts by UTF-8 byte order, not UTF-16 code units', () => {
    // U+FF5E (fullwidth tilde) is EF BD 9E in UTF-8; U+1F600 is F0 9F 98 80: the emoji sorts last
    const keys = ['\u{1F600}', '\uFF5E', 'z', 'A', 'é'];
    expect([...keys].sort(compareBytes)).toEqual(['A', 'z', 'é', '\uFF5E', '\u{1F600}']);
    expect([...keys].sort()).not.toEqual(['A', 'z', 'é', '\uFF5E', '\u{1F600}']);
    expect(compareBytes('abc', 'abcd')).toBeLessThan(0);
    expect(compareBytes('abc', 'abc')).toBe(0);
    expect(compareBytes('\u{1F600}', '\u{1F601}')).toBeLessThan(0);
    expect(compareBytes('\uE000', '\u{1F600}')).toBeLessThan(0);
    expect(compareBytes('\u{1F600}', '\uFFFF')).toBeGreaterThan(0);
  });
});

describe('typed access', () => {
  it('tells objects and integers apart', () => {
    expect(isJsonObject({})).toBe(true);
    expect(isJsonObject([])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
    expect(jsonSafeInteger(5)).toBe(5);
    expect(jsonSafeInteger(5n)).toBeUndefined();
    expect(jsonBigInt(5)).toBe(5n);
    expect(jsonBigInt(5n)).toBe(5n);
    expect(jsonBigInt('5')).toBeUndefined();
  });
});
