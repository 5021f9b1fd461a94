import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { PgkeepError } from '../error/pgkeep-error.js';
import type { Setting } from './command-line.js';
import { mergeIni, parseIni, type IniDocument } from './ini.js';
import { findOption } from './option-name.js';

/** File access for config loading, so tests and the UI's config editor can supply their own. */
export interface ConfigIo {
  /** The file's text, or undefined when it does not exist. */
  readFile(path: string): string | undefined;
  /** The directory's entry names, or undefined when it does not exist. */
  listDir(path: string): string[] | undefined;
}

export const fileConfigIo: ConfigIo = {
  readFile: (path) => ignoreMissing(() => readFileSync(path, 'utf8')),
  listDir: (path) => ignoreMissing(() => readdirSync(path)),
};

function ignoreMissing<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new PgkeepError('FileRead', `unable to read configuration: ${(error as Error).message}`, {
      hint: 'check that the user running pgkeep can read the configuration files',
    });
  }
}

export interface LoadedFiles {
  readonly document: IniDocument;
  /** The files that were read, in load order. */
  readonly files: readonly string[];
}

/**
 * Chooses and reads the configuration files as pgBackRest does:
 * - `--config` names the main file, which must then exist; without it the default is read if
 *   present. `--no-config` reads no main file.
 * - `--config-path` moves both defaults (`<path>/pgkeep.conf`, `<path>/conf.d`).
 * - `*.conf` in the include directory are appended in name order, except when only `--config`
 *   was given: an existing pgbackrest.conf passed with --config is read alone, unchanged.
 */
export function loadConfigFiles(early: ReadonlyMap<string, Setting>, io: ConfigIo = fileConfigIo): LoadedFiles {
  const config = early.get('config');
  const configPath = early.get('config-path');
  const includePath = early.get('config-include-path');

  const basePath = configPath?.texts[0] ?? String(findOption('config-path')!.default);
  const defaultConfig = configPath === undefined ? String(findOption('config')!.default) : join(basePath, 'pgkeep.conf');
  const defaultInclude = configPath === undefined ? String(findOption('config-include-path')!.default) : join(basePath, 'conf.d');

  const documents: IniDocument[] = [];
  const files: string[] = [];

  if (config?.ref.negate !== true) {
    const file = config?.texts[0] ?? defaultConfig;
    const text = io.readFile(file);
    if (text === undefined && config !== undefined) {
      throw new PgkeepError('FileMissing', `configuration file '${file}' does not exist (${config.place})`, {
        hint: 'check the path given with --config, or leave --config out to use ' + defaultConfig,
      });
    }
    if (text !== undefined) {
      documents.push(parseIni(text, file));
      files.push(file);
    }
  }

  const onlyConfigGiven = config !== undefined && configPath === undefined && includePath === undefined;
  if (!onlyConfigGiven) {
    const directory = includePath?.texts[0] ?? defaultInclude;
    const entries = io.listDir(directory);
    if (entries === undefined && includePath !== undefined) {
      throw new PgkeepError('PathMissing', `configuration include path '${directory}' does not exist (${includePath.place})`);
    }
    for (const name of (entries ?? []).filter((entry) => entry.endsWith('.conf')).sort()) {
      const file = join(directory, name);
      const text = io.readFile(file);
      if (text === undefined) continue; // removed while listing
      documents.push(parseIni(text, file));
      files.push(file);
    }
  }

  return { document: mergeIni(documents), files };
}

/** Stanza names defined in the files: every section but [global] and [*:command]. */
export function stanzaNames(document: IniDocument): string[] {
  const names = new Set<string>();
  for (const name of document.sections.keys()) {
    const stanza = name.split(':')[0]!;
    if (stanza !== 'global') names.add(stanza);
  }
  return [...names].sort();
}
