import { PgkeepError } from '../error/pgkeep-error.js';

/**
 * pgBackRest's configuration file dialect, which the `ini` package does not parse: each line is
 * trimmed; a line starting with `#` is a comment (so `#` or `;` later in a line is part of the
 * value); `[section]` starts a section; `key=value` splits at the first `=` and both sides are
 * trimmed; a key repeated in a section makes a list (whether that is allowed is for the option
 * registry to say, which knows which options are lists).
 */

export interface IniPlace {
  readonly file: string;
  readonly line: number;
}

export interface IniEntry extends IniPlace {
  readonly key: string;
  readonly value: string;
}

export interface IniSection {
  readonly name: string;
  /** Entries in file order; a repeated key appears once per occurrence. */
  readonly entries: IniEntry[];
}

export interface IniDocument {
  readonly sections: ReadonlyMap<string, IniSection>;
}

export function where(place: IniPlace): string {
  return `${place.file}:${place.line}`;
}

/** Parses one file's text. Several files (main + conf.d) are merged with mergeIni. */
export function parseIni(text: string, file: string): IniDocument {
  const sections = new Map<string, IniSection>();
  let current: IniSection | undefined;
  const lines = text.split('\n');

  for (let index = 0; index < lines.length; index++) {
    const place = { file, line: index + 1 };
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;

    if (line.startsWith('[')) {
      if (!line.endsWith(']')) {
        throw syntaxError(
          place,
          `section header '${line}' does not end with ']'`,
          'write a section as [name], for example [global] or [main:archive-push]',
        );
      }
      const name = line.slice(1, -1).trim();
      if (name === '') throw syntaxError(place, "empty section name '[]'", 'name the section, for example [global]');
      current = sections.get(name) ?? { name, entries: [] };
      sections.set(name, current);
      continue;
    }

    const equal = line.indexOf('=');
    if (equal < 0) {
      throw syntaxError(
        place,
        `line '${line}' is not key=value`,
        'write each option as key=value, for example repo1-path=/var/lib/pgbackrest',
      );
    }
    const key = line.slice(0, equal).trim();
    const value = line.slice(equal + 1).trim();
    if (key === '') throw syntaxError(place, `line '${line}' has no key before '='`);
    if (current === undefined) {
      throw syntaxError(
        place,
        `option '${key}' is outside of any section`,
        'put options under a section such as [global] or [<stanza>]',
      );
    }
    current.entries.push({ ...place, key, value });
  }

  return { sections };
}

/** Concatenates documents, as pgBackRest concatenates the main file with conf.d files. */
export function mergeIni(documents: readonly IniDocument[]): IniDocument {
  const sections = new Map<string, IniSection>();
  for (const document of documents) {
    for (const section of document.sections.values()) {
      const merged = sections.get(section.name) ?? { name: section.name, entries: [] };
      merged.entries.push(...section.entries);
      sections.set(section.name, merged);
    }
  }
  return { sections };
}

function syntaxError(place: IniPlace, what: string, hint?: string): PgkeepError {
  return new PgkeepError('Format', `${where(place)}: ${what}`, { hint });
}
