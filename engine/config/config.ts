import { PgkeepError } from '../error/pgkeep-error.js';
import type { CommandName } from './command-table.js';
import { findOption, keyName } from './option-name.js';
import type { OptionDef, OptionGroup, OptionValue } from './option-types.js';

/** pgBackRest lists options by name, then index (pg1-path, pg2-path, pg1-port). */
function byRegistryOrder(a: ResolvedOption, b: ResolvedOption): number {
  if (a.def.name !== b.def.name) return a.def.name < b.def.name ? -1 : 1;
  return (a.index ?? 0) - (b.index ?? 0);
}

export type OptionSource = 'command-line' | 'environment' | 'config' | 'default';

export interface ResolvedOption {
  readonly def: OptionDef;
  readonly key: string;
  readonly index: number | undefined;
  readonly value: OptionValue;
  readonly source: OptionSource;
  /** file:line, "command line", or the environment variable; undefined for defaults. */
  readonly place: string | undefined;
  /** The value as the user wrote it (`2MiB`), for messages; undefined for defaults and booleans. */
  readonly texts?: readonly string[];
}

/**
 * The resolved configuration of one command run: every option valid for the command with its
 * value and where the value came from. Options without a value (not set, no default) are absent.
 */
export class Config {
  constructor(
    readonly command: CommandName,
    readonly params: readonly string[],
    private readonly options: ReadonlyMap<string, ResolvedOption>,
    /** Group indexes in use (repo1, repo2, pg1 ...), ascending. */
    private readonly groupIndexes: Readonly<Record<OptionGroup, readonly number[]>>,
    readonly warnings: readonly string[] = [],
    readonly files: readonly string[] = [],
    /** Options reset to their default on the command line (--reset-<option>). */
    private readonly resets: readonly ResolvedOption[] = [],
  ) {}

  get stanza(): string | undefined {
    return this.stringOr('stanza');
  }

  indexes(group: OptionGroup): readonly number[] {
    return this.groupIndexes[group];
  }

  has(name: string, index?: number): boolean {
    return this.options.has(this.key(name, index));
  }

  resolved(name: string, index?: number): ResolvedOption | undefined {
    return this.options.get(this.key(name, index));
  }

  all(): IterableIterator<ResolvedOption> {
    return this.options.values();
  }

  value(name: string, index?: number): OptionValue | undefined {
    return this.options.get(this.key(name, index))?.value;
  }

  string(name: string, index?: number): string {
    return this.required(name, index, 'string') as string;
  }

  stringOr(name: string, index?: number): string | undefined {
    return this.optional(name, index, 'string') as string | undefined;
  }

  number(name: string, index?: number): number {
    return this.required(name, index, 'number') as number;
  }

  numberOr(name: string, index?: number): number | undefined {
    return this.optional(name, index, 'number') as number | undefined;
  }

  boolean(name: string, index?: number): boolean {
    return this.required(name, index, 'boolean') as boolean;
  }

  booleanOr(name: string, index?: number): boolean | undefined {
    return this.optional(name, index, 'boolean') as boolean | undefined;
  }

  list(name: string, index?: number): readonly string[] {
    return (this.optional(name, index, 'object') as readonly string[] | undefined) ?? [];
  }

  hash(name: string, index?: number): Readonly<Record<string, string>> {
    return (this.optional(name, index, 'object') as Record<string, string> | undefined) ?? {};
  }

  /** Values of secure options: the logger removes them from every line. */
  secrets(): string[] {
    return [...this.options.values()]
      .filter((option) => option.def.secure && typeof option.value === 'string')
      .map((option) => option.value as string);
  }

  /**
   * Options set by the user, as `--key=value` words for the log line that starts a command, in
   * pgBackRest's order and quoting; secrets are redacted.
   */
  describe(): string[] {
    const words: string[] = [];
    const quote = (text: string) => (text.includes(' ') ? `"${text}"` : text);
    const shown = [...this.options.values()].filter((option) => option.source !== 'default');
    for (const option of [...shown, ...this.resets].sort(byRegistryOrder)) {
      const value = option.value;
      if (this.resets.includes(option)) words.push(`--reset-${option.key}`);
      else if (option.def.secure) words.push(`--${option.key}=<redacted>`);
      else if (typeof value === 'boolean') words.push(value ? `--${option.key}` : `--no-${option.key}`);
      else if (option.texts !== undefined) for (const text of option.texts) words.push(`--${option.key}=${quote(text)}`);
      else if (Array.isArray(value)) for (const item of value) words.push(`--${option.key}=${quote(item)}`);
      else if (typeof value === 'object')
        for (const [k, v] of Object.entries(value)) words.push(`--${option.key}=${quote(`${k}=${v}`)}`);
      else words.push(`--${option.key}=${quote(String(value))}`);
    }
    return words;
  }

  private key(name: string, index: number | undefined): string {
    const def = findOption(name);
    if (def === undefined) throw new PgkeepError('Assert', `option '${name}' is not in the registry`);
    if (def.group !== undefined && index === undefined) throw new PgkeepError('Assert', `option '${name}' needs an index`);
    return keyName(def, index);
  }

  private optional(name: string, index: number | undefined, type: string): OptionValue | undefined {
    const value = this.options.get(this.key(name, index))?.value;
    if (value !== undefined && typeof value !== type) {
      throw new PgkeepError('Assert', `option '${name}' is read as ${type} but holds ${typeof value}`);
    }
    return value;
  }

  private required(name: string, index: number | undefined, type: string): OptionValue {
    const value = this.optional(name, index, type);
    if (value === undefined) {
      throw new PgkeepError('OptionRequired', `${this.command} command requires option: ${keyName(findOption(name)!, index)}`);
    }
    return value;
  }
}
