import { PgkeepError } from '../error/pgkeep-error.js';
import { optionTable } from './option-table.js';
import { GROUP_INDEX_MAX, type OptionDef } from './option-types.js';

/** An option name as written (`repo2-path`, `no-online`, `db-path`) resolved against the registry. */
export interface OptionRef {
  readonly def: OptionDef;
  /** 1-based index for repoN-/pgN- options, undefined for the others. */
  readonly index: number | undefined;
  readonly negate: boolean;
  readonly reset: boolean;
  /** The name was an older one (db-path, retention-full, ...). */
  readonly deprecated: boolean;
}

const byName = new Map(optionTable.map((def) => [def.name, def]));

/** Deprecated names: `db-path` (index 1) and `db?-path` (`db2-path` -> pg2-path). */
const deprecated = new Map<string, { def: OptionDef; indexed: boolean; unindexed: boolean }>();
for (const def of optionTable) {
  for (const old of def.deprecatedNames ?? []) {
    const name = old.replace('?', '');
    if (byName.has(name)) continue; // repo-path: the unindexed form of a current name
    const entry = deprecated.get(name) ?? { def, indexed: false, unindexed: false };
    if (old.includes('?')) entry.indexed = true;
    else entry.unindexed = true;
    deprecated.set(name, entry);
  }
}

/** The name of an option at an index: keyName(repo-path, 2) is repo2-path. */
export function keyName(def: OptionDef, index: number | undefined): string {
  if (def.group === undefined || index === undefined) return def.name;
  return `${def.group}${index}${def.name.slice(def.group.length)}`;
}

export function findOption(name: string): OptionDef | undefined {
  return byName.get(name);
}

/**
 * Resolves a written option name. Returns undefined when no option has that name (the caller says
 * where it was found and suggests one); throws when the name is known but malformed.
 * `prefixMatch` allows a unique abbreviation, as pgBackRest does on the command line.
 */
export function lookupOption(written: string, prefixMatch = false): OptionRef | undefined {
  let name = written;
  let negate = false;
  let reset = false;
  if (name.startsWith('no-')) {
    negate = true;
    name = name.slice(3);
  } else if (name.startsWith('reset-')) {
    reset = true;
    name = name.slice(6);
  }

  const split = splitIndex(name);
  if (split === undefined) return undefined;
  const { base, index } = split;

  let def = byName.get(base);
  let isDeprecated = false;
  if (def === undefined) {
    const old = deprecated.get(base);
    if (old !== undefined) {
      if (index === undefined ? !old.unindexed : !old.indexed) {
        throw new PgkeepError(
          'OptionInvalid',
          `deprecated option '${written}' ${index === undefined ? 'requires' : 'cannot have'} an index`,
          {
            hint: `use ${keyName(old.def, index ?? 1)}`,
          },
        );
      }
      def = old.def;
      isDeprecated = true;
    } else if (prefixMatch) {
      const matches = optionTable.filter((candidate) => candidate.name.startsWith(base));
      if (matches.length === 1) def = matches[0];
    }
  } else if (def.deprecatedNames?.includes(base) && index === undefined) {
    isDeprecated = true; // repo-path is the old name of repo1-path
  }
  if (def === undefined) return undefined;

  let resolvedIndex = index;
  if (def.group === undefined) {
    if (index !== undefined)
      throw new PgkeepError('OptionInvalid', `option '${written}' cannot have an index`, { hint: `write --${def.name}` });
  } else if (index === undefined) {
    if (!isDeprecated) {
      throw new PgkeepError('OptionInvalid', `option '${written}' requires an index`, {
        hint: `add the index, for example ${keyName(def, 1)}`,
      });
    }
    resolvedIndex = 1;
  }

  if (negate && def.type !== 'boolean' && def.name !== 'config') {
    throw new PgkeepError('OptionInvalid', `option '${written}' cannot be negated`, {
      hint: `only on/off options take the no- prefix`,
    });
  }
  if (reset && def.section === 'command-line') {
    throw new PgkeepError('OptionInvalid', `option '${written}' cannot be reset`, {
      hint: 'reset- returns a configuration file option to its default; this option is not read from configuration files',
    });
  }

  return { def, index: resolvedIndex, negate, reset, deprecated: isDeprecated };
}

/** `repo12-path` -> base repo-path, index 12. Undefined when the name cannot be an option. */
function splitIndex(name: string): { base: string; index: number | undefined } | undefined {
  const match = /^([a-z]+)([0-9]+)(-.+)$/.exec(name);
  if (match === null) return /^[a-z][a-z0-9-]*$/.test(name) ? { base: name, index: undefined } : undefined;
  const index = Number(match[2]);
  if (index < 1 || index > GROUP_INDEX_MAX) {
    throw new PgkeepError('OptionInvalid', `option '${name}' has index ${match[2]}, outside 1 to ${GROUP_INDEX_MAX}`);
  }
  return { base: match[1]! + match[3]!, index };
}

/** The closest known option name, for "did you mean" hints. */
export function suggestOption(written: string): string | undefined {
  const bare = written.replace(/^(no-|reset-)/, '');
  const split = /^([a-z]+)([0-9]+)(-.+)$/.exec(bare);
  const index = split === null ? undefined : Number(split[2]);
  const base = split === null ? bare : split[1]! + split[3]!;

  let best: { name: string; distance: number } | undefined;
  for (const def of optionTable) {
    if (def.internal) continue;
    const candidates = [def.name, ...(def.deprecatedNames ?? []).map((old) => old.replace('?', ''))];
    for (const candidate of candidates) {
      const distance = editDistance(base, candidate);
      if (best === undefined || distance < best.distance)
        best = { name: keyName(def, def.group === undefined ? undefined : (index ?? 1)), distance };
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(base.length / 4));
  return best.distance <= limit ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
