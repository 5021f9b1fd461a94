import { describe, expect, it } from 'vitest';

import { mergeIni, parseIni } from '../../../../engine/config/ini.js';
import { PgkeepError } from '../../../../engine/error/pgkeep-error.js';

function entries(text: string, section: string) {
  return parseIni(text, '/etc/x.conf')
    .sections.get(section)
    ?.entries.map(({ key, value, line }) => ({ key, value, line }));
}

describe('parseIni (pgBackRest dialect)', () => {
  it('reads sections, trims keys and values, and records lines', () => {
    const text = '[global]\n  repo1-path = /var/lib/pgbackrest  \n\n[demo]\npg1-path=/data\n';
    expect(entries(text, 'global')).toEqual([{ key: 'repo1-path', value: '/var/lib/pgbackrest', line: 2 }]);
    expect(entries(text, 'demo')).toEqual([{ key: 'pg1-path', value: '/data', line: 5 }]);
  });

  it('treats # as a comment only at the start of a line, keeping # and ; inside values', () => {
    const text =
      '# top comment\n[global]\n   # indented comment\nrecovery-option=primary_conninfo=host=x # not a comment\nx=a;b\n';
    expect(entries(text, 'global')).toEqual([
      { key: 'recovery-option', value: 'primary_conninfo=host=x # not a comment', line: 4 },
      { key: 'x', value: 'a;b', line: 5 },
    ]);
  });

  it('splits at the first = only', () => {
    expect(entries('[g]\nrecovery-option=a=b=c\n', 'g')).toEqual([{ key: 'recovery-option', value: 'a=b=c', line: 2 }]);
  });

  it('keeps repeated keys as separate entries (lists) and merges repeated sections', () => {
    const text = '[global]\nexclude=a/\n[demo]\nx=1\n[global]\nexclude=b/\n';
    expect(entries(text, 'global')!.map((entry) => entry.value)).toEqual(['a/', 'b/']);
  });

  it.each([
    ['[global\nx=1\n', /x\.conf:1: section header '\[global' does not end with '\]'/],
    ['[]\n', /x\.conf:1: empty section name/],
    ['[global]\njust-a-word\n', /x\.conf:2: line 'just-a-word' is not key=value/],
    ['[global]\n=value\n', /x\.conf:2: line '=value' has no key/],
    ['x=1\n', /x\.conf:1: option 'x' is outside of any section/],
  ])('rejects %j with the file and line', (text, message) => {
    let error: unknown;
    try {
      parseIni(text, '/etc/x.conf');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PgkeepError);
    expect((error as PgkeepError).message).toMatch(message);
    expect((error as PgkeepError).code).toBe(29);
  });

  it('merges documents in order (main file, then conf.d files)', () => {
    const merged = mergeIni([parseIni('[global]\na=1\n', '/m.conf'), parseIni('[global]\nb=2\n[demo]\nc=3\n', '/d/1.conf')]);
    expect(merged.sections.get('global')!.entries.map((entry) => `${entry.file}:${entry.line} ${entry.key}`)).toEqual([
      '/m.conf:2 a',
      '/d/1.conf:2 b',
    ]);
    expect([...merged.sections.keys()]).toEqual(['global', 'demo']);
  });
});
