import { PgkeepError } from '../error/pgkeep-error.js';
import { keyName, lookupOption, suggestOption, type OptionRef } from './option-name.js';

/** One option setting from one source, before conversion to a typed value. */
export interface Setting {
  readonly ref: OptionRef;
  /** The option's indexed name, e.g. repo2-path. */
  readonly key: string;
  /** Text values; several for repeated list/hash options. Empty for negate/reset. */
  readonly texts: string[];
  /** Where it was set: `file:line`, `command line` or the environment variable. */
  readonly place: string;
  readonly source: 'command-line' | 'environment' | 'config';
  /** The name as written in a config file, to tell a repeated list key from an alias. */
  readonly written?: string;
}

export interface CommandLine {
  readonly command: string | undefined;
  readonly params: readonly string[];
  readonly settings: ReadonlyMap<string, Setting>;
}

const PLACE = 'command line';

/**
 * Parses pgBackRest-style arguments: `--opt=value`, `--opt value`, `--no-opt`, `--reset-opt`, the
 * first bare word is the command and later ones its parameters. `--help` and `--version` are
 * accepted as aliases of the help and version commands.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  let command: string | undefined;
  const params: string[] = [];
  const settings = new Map<string, Setting>();

  for (let position = 0; position < argv.length; position++) {
    const arg = argv[position]!;
    if (arg === '--help' || arg === '-h') {
      if (command !== undefined && command !== 'help') params.unshift(command);
      command = 'help';
      continue;
    }
    if (arg === '--version' && command === undefined) {
      command = 'version';
      continue;
    }
    if (!arg.startsWith('-')) {
      if (command === undefined) command = arg;
      else params.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) {
      throw new PgkeepError('OptionInvalid', `option '${arg}' must begin with --`, { hint: 'write options as --name=value' });
    }

    const equal = arg.indexOf('=');
    const written = equal < 0 ? arg.slice(2) : arg.slice(2, equal);
    let text = equal < 0 ? undefined : arg.slice(equal + 1);
    const ref = lookupOption(written, true);
    if (ref === undefined) {
      const suggestion = suggestOption(written);
      throw new PgkeepError('OptionInvalid', `unknown option '--${written}' on the command line`, {
        hint:
          suggestion === undefined ? "'pgkeep help <command>' lists the options of a command" : `did you mean '--${suggestion}'?`,
      });
    }
    const key = keyName(ref.def, ref.index);
    if (ref.def.secure) {
      throw new PgkeepError('OptionInvalid', `option '${key}' is not allowed on the command line`, {
        hint:
          'it is a secret and would show in the process list: set it in the configuration file or in the environment (PGKEEP_' +
          key.toUpperCase().replaceAll('-', '_') +
          ')',
      });
    }

    let negate = ref.negate;
    if (negate || ref.reset) {
      if (text !== undefined) throw new PgkeepError('OptionInvalid', `option '--${written}' does not take a value`);
    } else if (ref.def.type === 'boolean') {
      if (text === 'n') negate = true;
      else if (text !== undefined && text !== 'y') {
        throw new PgkeepError('OptionInvalidValue', `${PLACE}: '${text}' is not y or n for option '--${written}'`, {
          hint: `write --${key} or --no-${key}`,
        });
      }
      text = undefined;
    } else if (text === undefined) {
      text = argv[++position];
      if (text === undefined)
        throw new PgkeepError('OptionInvalid', `option '--${written}' requires a value`, { hint: `write --${key}=<value>` });
    }

    const previous = settings.get(key);
    const multi = ref.def.type === 'list' || ref.def.type === 'hash';
    if (previous !== undefined) {
      if (!multi || text === undefined || previous.texts.length === 0) {
        throw new PgkeepError('OptionInvalid', `option '${key}' is given more than once on the command line`, {
          hint: 'keep one of them',
        });
      }
      previous.texts.push(text);
      continue;
    }
    settings.set(key, {
      ref: { ...ref, negate },
      key,
      texts: text === undefined ? [] : [text],
      place: PLACE,
      source: 'command-line',
    });
  }

  return { command, params, settings };
}

/**
 * Settings from the environment: PGKEEP_REPO1_PATH and, for drop-in compatibility,
 * PGBACKREST_REPO1_PATH (PGKEEP_ wins when both are set). Booleans are y/n; list and hash values
 * are separated by ':'. Unknown variables are returned as warnings, as pgBackRest does.
 */
export function parseEnvironment(env: Readonly<Record<string, string | undefined>>): {
  settings: Map<string, Setting>;
  warnings: string[];
} {
  const settings = new Map<string, Setting>();
  const warnings: string[] = [];
  for (const prefix of ['PGKEEP_', 'PGBACKREST_']) {
    for (const [variable, value] of Object.entries(env)) {
      if (!variable.startsWith(prefix) || value === undefined) continue;
      const written = variable.slice(prefix.length).toLowerCase().replaceAll('_', '-');
      const ref = lookupOption(written);
      if (ref === undefined || ref.negate || ref.reset) {
        warnings.push(`environment contains invalid option '${written}' (${variable})`);
        continue;
      }
      const key = keyName(ref.def, ref.index);
      if (settings.has(key)) continue;
      if (value === '') throw new PgkeepError('OptionInvalidValue', `environment variable ${variable} must have a value`);
      const multi = ref.def.type === 'list' || ref.def.type === 'hash';
      settings.set(key, {
        ref,
        key,
        texts: multi ? value.split(':') : [value],
        place: `environment ${variable}`,
        source: 'environment',
      });
    }
  }
  return { settings, warnings };
}
