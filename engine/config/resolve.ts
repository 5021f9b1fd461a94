import { PgkeepError } from '../error/pgkeep-error.js';
import { commandTable, type CommandName } from './command-table.js';
import { parseEnvironment, type CommandLine, type Setting } from './command-line.js';
import { Config, type OptionSource, type ResolvedOption } from './config.js';
import { fileConfigIo, loadConfigFiles, type ConfigIo } from './config-files.js';
import { where, type IniDocument } from './ini.js';
import { keyName, lookupOption, suggestOption } from './option-name.js';
import { optionTable } from './option-table.js';
import type { CommandRule, OptionDef, OptionDepend, OptionGroup, OptionValue } from './option-types.js';
import { parseOptionValue } from './option-value.js';

export interface ResolveInput {
  readonly command: CommandName;
  readonly commandLine: CommandLine;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly io?: ConfigIo;
  /** An already loaded document (the UI's editor); skips reading files. */
  readonly document?: IniDocument;
}

/**
 * Resolves every option of a command as pgBackRest does: command line, then environment, then
 * the config file's [stanza:command], [stanza], [global:command], [global] sections, then
 * defaults. Unlike pgBackRest, mistakes in the sections that apply are errors, not warnings:
 * an unknown option, a bad value, a key set twice, a stanza option in [global], an option not
 * valid in a [section:command] section.
 */
export function resolveConfig(input: ResolveInput): Config {
  const { command, commandLine } = input;
  // As pgBackRest, before any file is read: a word where an option was meant is not ignored
  if (commandLine.params.length > 0 && !commandTable[command].parameters)
    throw new PgkeepError('ParamInvalid', 'command does not allow parameters', {
      hint: `'${commandLine.params[0]!}' is not an option: options start with --`,
    });
  const environment = parseEnvironment(input.env ?? {});

  // Options that choose the config files may come from the command line or the environment.
  const early = new Map<string, Setting>();
  for (const name of ['config', 'config-path', 'config-include-path']) {
    const setting = commandLine.settings.get(name) ?? environment.settings.get(name);
    if (setting !== undefined) early.set(name, setting);
  }
  const loaded =
    input.document === undefined ? loadConfigFiles(early, input.io ?? fileConfigIo) : { document: input.document, files: [] };

  const stanza = commandLine.settings.get('stanza')?.texts[0] ?? environment.settings.get('stanza')?.texts[0];
  const fromFile = settingsFromFile(loaded.document, command, stanza);

  // First source wins, in precedence order.
  const layers = [commandLine.settings, environment.settings, ...fromFile];
  const chosen = new Map<string, Setting>();
  for (const layer of layers) {
    for (const [key, setting] of layer) if (!chosen.has(key)) chosen.set(key, setting);
  }

  for (const setting of commandLine.settings.values()) {
    if (setting.ref.def.commands[command] === undefined) {
      throw new PgkeepError('OptionInvalid', `option '--${setting.key}' is not valid for command '${command}'`, {
        hint: `'pgkeep help ${command}' lists the options it takes`,
      });
    }
  }

  const resolver = new Resolver(command, chosen);
  const options = resolver.resolveAll();
  checkChosenRepo(options.get('repo'), resolver.groupIndexes.repo);
  const resets = [...commandLine.settings.values()]
    .filter((setting) => setting.ref.reset)
    .map((setting) => ({
      def: setting.ref.def,
      key: setting.key,
      index: setting.ref.index,
      value: false,
      source: 'command-line' as const,
      place: setting.place,
    }));
  return new Config(command, commandLine.params, options, resolver.groupIndexes, environment.warnings, loaded.files, resets);
}

/** `--repo=N` names a configured repository (any repoN option set, or repo1 by default), as in pgBackRest. */
function checkChosenRepo(repo: ResolvedOption | undefined, configured: readonly number[]): void {
  if (repo === undefined || configured.includes(repo.value as number)) return;
  throw new PgkeepError(
    'OptionInvalidValue',
    `${repo.place}: repo${String(repo.value)} is not configured: '${String(repo.value)}' is not valid for option 'repo'`,
    {
      hint: `configured: ${configured.map((index) => `repo${index}`).join(', ')}; a repository is configured by its repoN-path (or another repoN option)`,
    },
  );
}

/** The settings of the four sections that apply, each section a layer in precedence order. */
function settingsFromFile(document: IniDocument, command: CommandName, stanza: string | undefined): Map<string, Setting>[] {
  const sectionNames = [...(stanza === undefined ? [] : [`${stanza}:${command}`, stanza]), `global:${command}`, 'global'];
  return sectionNames.map((name) => {
    const layer = new Map<string, Setting>();
    const section = document.sections.get(name);
    if (section === undefined) return layer;
    const isGlobal = name === 'global' || name.startsWith('global:');
    const isCommandSection = name.includes(':');

    for (const entry of section.entries) {
      const place = where(entry);
      const ref = lookupOption(entry.key);
      if (ref === undefined) {
        const suggestion = suggestOption(entry.key);
        throw new PgkeepError('OptionInvalid', `${place}: unknown option '${entry.key}' in section [${name}]`, {
          hint:
            suggestion === undefined
              ? "'pgkeep help <command>' lists the options of each command"
              : `did you mean '${suggestion}'?`,
        });
      }
      if (ref.negate || ref.reset) {
        throw new PgkeepError('OptionInvalid', `${place}: '${entry.key}' cannot be used in a configuration file`, {
          hint: `set the option to ${ref.def.type === 'boolean' ? "'n'" : 'its value'} instead`,
        });
      }
      const key = keyName(ref.def, ref.index);
      if (ref.def.section === 'command-line') {
        throw new PgkeepError('OptionInvalid', `${place}: option '${key}' can only be given on the command line`, {
          hint: `remove it from [${name}] and pass --${key}`,
        });
      }
      if (ref.def.section === 'stanza' && isGlobal) {
        throw new PgkeepError('OptionInvalid', `${place}: option '${key}' is not allowed in [${name}]`, {
          hint: `it describes one cluster: move it to the stanza's section, for example [main]`,
        });
      }
      if (isCommandSection && ref.def.commands[command] === undefined) {
        throw new PgkeepError(
          'OptionInvalid',
          `${place}: option '${key}' is not valid for command '${command}' in section [${name}]`,
          {
            hint: `move it to [${isGlobal ? 'global' : stanza}] or to the section of a command that takes it`,
          },
        );
      }

      const previous = layer.get(key);
      if (previous !== undefined) {
        const multi = ref.def.type === 'list' || ref.def.type === 'hash';
        if (!multi || entry.key !== previous.written) {
          throw new PgkeepError(
            'OptionInvalid',
            `${place}: option '${key}' is set twice in section [${name}] (first at ${previous.place})`,
            {
              hint: multi ? 'write a repeated option with the same name each time' : 'keep one of the two lines',
            },
          );
        }
        previous.texts.push(entry.value);
        continue;
      }
      layer.set(key, { ref, key, texts: [entry.value], place, source: 'config', written: entry.key });
    }
    return layer;
  });
}

/** Resolves values option by option; dependencies are resolved on demand. */
class Resolver {
  private readonly results = new Map<string, ResolvedOption | null>();
  readonly groupIndexes: Record<OptionGroup, number[]>;

  constructor(
    private readonly command: CommandName,
    private readonly chosen: ReadonlyMap<string, Setting>,
  ) {
    const used: Record<OptionGroup, Set<number>> = { repo: new Set(), pg: new Set() };
    for (const setting of chosen.values()) {
      const group = setting.ref.def.group;
      if (
        group !== undefined &&
        setting.ref.index !== undefined &&
        !setting.ref.reset &&
        setting.ref.def.commands[command] !== undefined
      ) {
        used[group].add(setting.ref.index);
      }
    }
    this.groupIndexes = {
      repo: used.repo.size === 0 ? [1] : [...used.repo].sort((a, b) => a - b),
      pg: used.pg.size === 0 ? [1] : [...used.pg].sort((a, b) => a - b),
    };
  }

  resolveAll(): Map<string, ResolvedOption> {
    for (const def of optionTable) {
      if (def.commands[this.command] === undefined) continue;
      const indexes = def.group === undefined ? [undefined] : this.groupIndexes[def.group];
      for (const index of indexes) this.resolve(def, index);
    }
    const result = new Map<string, ResolvedOption>();
    for (const [key, option] of this.results) if (option !== null) result.set(key, option);
    return result;
  }

  private resolve(def: OptionDef, index: number | undefined): ResolvedOption | null {
    const key = keyName(def, index);
    const done = this.results.get(key);
    if (done !== undefined) return done;
    this.results.set(key, null); // guards against dependency cycles

    const rule: CommandRule = def.commands[this.command] ?? {};
    const setting = this.chosen.get(key);
    const active = setting !== undefined && !setting.ref.reset ? setting : undefined;

    const depend = rule.depend === undefined ? def.depend : (rule.depend ?? undefined);
    if (depend !== undefined && !this.dependMet(depend, def, index)) {
      if (active?.source === 'command-line') throw this.dependError(key, depend, index);
      const value = depend.defaultWhenUnmet;
      const result = value === undefined ? null : this.make(def, key, index, value, 'default', undefined);
      this.results.set(key, result);
      return result;
    }

    let result: ResolvedOption | null = null;
    if (active !== undefined) {
      result = this.fromSetting(def, key, index, active, rule);
    } else {
      const fallback = 'default' in rule ? rule.default : def.default;
      if (fallback !== undefined && fallback !== null) result = this.make(def, key, index, fallback, 'default', undefined);
    }

    const required = rule.required ?? def.required ?? false;
    if (result === null && required && !(active?.ref.negate ?? false)) {
      throw new PgkeepError('OptionRequired', `${this.command} command requires option: ${key}`, {
        hint:
          def.section === 'stanza'
            ? 'does this stanza exist? set the option in its section of the configuration file'
            : undefined,
      });
    }
    this.checkSupported(def, key, result);
    this.results.set(key, result);
    return result;
  }

  private fromSetting(
    def: OptionDef,
    key: string,
    index: number | undefined,
    setting: Setting,
    rule: CommandRule,
  ): ResolvedOption | null {
    if (setting.ref.negate) {
      // --no-online is false; --no-config means "no value"
      return def.type === 'boolean' ? this.make(def, key, index, false, setting.source, setting.place) : null;
    }
    if (def.type === 'boolean' && setting.source === 'command-line') {
      return this.make(def, key, index, true, setting.source, setting.place);
    }
    const value = parseOptionValue(def, setting.texts, { name: key, place: setting.place, allow: rule.allow });
    return { ...this.make(def, key, index, value, setting.source, setting.place), texts: setting.texts };
  }

  private make(
    def: OptionDef,
    key: string,
    index: number | undefined,
    value: OptionValue,
    source: OptionSource,
    place: string | undefined,
  ): ResolvedOption {
    return { def, key, index, value, source, place };
  }

  private dependMet(depend: OptionDepend, def: OptionDef, index: number | undefined): boolean {
    const target = optionTable.find((candidate) => candidate.name === depend.option);
    if (target === undefined)
      throw new PgkeepError('Assert', `option '${def.name}' depends on unknown option '${depend.option}'`);
    if (target.commands[this.command] === undefined) return false;
    const targetIndex = target.group === undefined ? undefined : (index ?? 1);
    const resolved = this.resolve(target, targetIndex);
    if (resolved === null) return false;
    return depend.values === undefined || depend.values.includes(resolved.value as string | boolean);
  }

  private dependError(key: string, depend: OptionDepend, index: number | undefined): PgkeepError {
    const target = optionTable.find((candidate) => candidate.name === depend.option)!;
    const targetKey = keyName(target, target.group === undefined ? undefined : (index ?? 1));
    const values = depend.values?.map((value) => (typeof value === 'boolean' ? (value ? 'y' : 'n') : value));
    const condition = values === undefined ? '' : values.length === 1 ? ` = ${values[0]}` : ` in (${values.join(', ')})`;
    return new PgkeepError('OptionInvalid', `option '${key}' is not valid without option '${targetKey}'${condition}`, {
      hint: `set --${targetKey}${values === undefined ? '' : `=${values[0]}`} or leave --${key} out`,
    });
  }

  private checkSupported(def: OptionDef, key: string, result: ResolvedOption | null): void {
    if (result === null || result.source === 'default') return;
    if (def.unsupported !== undefined && !sameValue(result.value, def.default)) {
      throw new PgkeepError('FeatureNotSupported', `option '${key}' (${result.place}): ${def.unsupported}`, {
        hint: 'remove the option for pgkeep, or use pgBackRest for this repository',
      });
    }
    if (def.supportedValues !== undefined && typeof result.value === 'string' && !def.supportedValues.includes(result.value)) {
      throw new PgkeepError('FeatureNotSupported', `${result.place}: ${key}=${result.value} is not supported by pgkeep`, {
        hint: `pgkeep supports: ${def.supportedValues.join(', ')}`,
      });
    }
  }
}

function sameValue(a: OptionValue, b: OptionValue | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
