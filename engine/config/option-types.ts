import type { CommandName } from './command-table.js';

/**
 * Option types. `size` accepts 1048576, 1MiB, 1MB, 1m (powers of 1024, as pgBackRest); `time` is
 * seconds with a fraction (`0.5`); `list` may be repeated; `hash` is `key=value`, repeated.
 */
export type OptionType = 'boolean' | 'integer' | 'size' | 'time' | 'string' | 'path' | 'enum' | 'list' | 'hash';

/**
 * Where an option may be set: `command-line` only on the command line (and in the environment),
 * `global` anywhere, `stanza` in the command line, environment or a stanza section but not in
 * `[global]`.
 */
export type OptionSection = 'command-line' | 'global' | 'stanza';

/** The indexed families: repo1-path ... repo256-path, pg1-path ... pg256-path. */
export type OptionGroup = 'repo' | 'pg';
export const GROUP_INDEX_MAX = 256;

export type OptionValue = boolean | number | string | readonly string[] | Readonly<Record<string, string>>;

/** An option is valid only when another option has one of these values (pgBackRest's depend). */
export interface OptionDepend {
  readonly option: string;
  readonly values?: readonly (string | boolean)[];
  /** The value this boolean option takes when the dependency does not hold. */
  readonly defaultWhenUnmet?: boolean;
}

/** How an option behaves for one command, where it differs from the option's own rule. */
export interface CommandRule {
  readonly default?: OptionValue | null;
  readonly required?: boolean;
  readonly allow?: readonly string[];
  readonly depend?: OptionDepend | null;
}

export interface OptionDef {
  readonly name: string;
  readonly type: OptionType;
  readonly section: OptionSection;
  readonly group?: OptionGroup;
  /** The commands that take this option. */
  readonly commands: Readonly<Partial<Record<CommandName, CommandRule>>>;
  readonly default?: OptionValue;
  /** A missing value is an error (for options without a default). */
  readonly required?: boolean;
  readonly allow?: readonly string[];
  /** Inclusive range of integer, size (bytes) and time (seconds) values. */
  readonly range?: readonly [number, number];
  /** A secret: refused on the command line, never logged, never sent to a UI. */
  readonly secure?: boolean;
  readonly depend?: OptionDepend;
  /** Older names: `db-path` style, `?` standing for the index where the old name had one. */
  readonly deprecatedNames?: readonly string[];
  /** Not shown by help. */
  readonly internal?: boolean;
  /**
   * A pgBackRest option pgkeep knows but does not implement: loading a config that sets it is fine
   * (another tool may read the same file); a command that would need it fails with a clear error.
   */
  readonly unsupported?: string;
  /** Of the allowed values, those pgkeep implements (the rest fail like `unsupported`). */
  readonly supportedValues?: readonly string[];
  readonly summary: string;
  readonly description?: string;
}
