import { commandTable, isCommandName, type CommandName } from '../../config/command-table.js';
import { keyName, lookupOption, suggestOption } from '../../config/option-name.js';
import { optionTable } from '../../config/option-table.js';
import type { OptionDef, OptionValue } from '../../config/option-types.js';
import { formatSize } from '../../config/option-value.js';
import { PgkeepError } from '../../error/pgkeep-error.js';
import { PGKEEP_VERSION } from '../../version.js';

/** Help text, derived entirely from the command and option tables. */

const WIDTH = 100;

export function renderGeneralHelp(commands: readonly CommandName[]): string {
  const width = Math.max(...commands.map((name) => name.length)) + 4;
  return [
    `pgkeep ${PGKEEP_VERSION} - General help`,
    '',
    'Usage:',
    '    pgkeep [options] [command]',
    '',
    'Commands:',
    ...commands.map((name) => `    ${name.padEnd(width)}${capitalize(commandTable[name].summary)}`),
    '',
    "Use 'pgkeep help <command>' for more information.",
    '',
  ].join('\n');
}

export function renderCommandHelp(command: CommandName): string {
  const def = commandTable[command];
  const lines = [`pgkeep ${PGKEEP_VERSION} - '${command}' command help`, '', capitalize(def.summary) + '.', ''];
  if (def.description !== '') lines.push(...wrap(def.description, WIDTH), '');

  const options = optionTable.filter(
    (option) => option.commands[command] !== undefined && !option.internal && option.unsupported === undefined,
  );
  for (const [title, members] of groupOptions(options)) {
    if (members.length === 0) continue;
    lines.push(`${title}:`, '');
    const width = Math.max(...members.map((option) => displayName(option).length)) + 4;
    for (const option of members) {
      const defaultText = defaultFor(option, command);
      const summary = capitalize(option.summary) + (defaultText === undefined ? '' : ` [default=${defaultText}]`);
      const [first, ...rest] = wrap(summary, WIDTH - width - 4);
      lines.push(`  --${displayName(option).padEnd(width)}${first}`);
      for (const line of rest) lines.push(' '.repeat(width + 4) + line);
    }
    lines.push('');
  }
  lines.push(`Use 'pgkeep help ${command} <option>' for more information.`, '');
  return lines.join('\n');
}

export function renderOptionHelp(command: CommandName, option: string): string {
  const written = option.replace(/^--/, '');
  const ref = lookupOption(written, true);
  if (ref === undefined || ref.def.commands[command] === undefined) {
    const suggestion = suggestOption(written);
    throw new PgkeepError('OptionInvalid', `option '${written}' is not an option of command '${command}'`, {
      hint: suggestion === undefined ? `'pgkeep help ${command}' lists its options` : `did you mean '${suggestion}'?`,
    });
  }
  const def = ref.def;
  const lines = [
    `pgkeep ${PGKEEP_VERSION} - '${command}' command - '${def.name}' option help`,
    '',
    capitalize(def.summary) + '.',
    '',
  ];
  if (def.description !== undefined) lines.push(...wrap(def.description, WIDTH), '');
  if (def.unsupported !== undefined) lines.push(`Not supported: ${def.unsupported}.`, '');

  const rule = def.commands[command]!;
  lines.push(`type: ${def.type === 'enum' ? 'one of a list' : def.type}`);
  const defaultText = defaultFor(def, command);
  lines.push(`default: ${defaultText ?? '(none)'}`);
  const allow = rule.allow ?? def.allow;
  if (allow !== undefined) lines.push(`allowed: ${allow.join(', ')}`);
  if (def.range !== undefined) {
    const [low, high] = def.type === 'size' ? def.range.map(formatSize) : def.range;
    lines.push(`range: ${low} to ${high}${def.type === 'time' ? ' seconds' : ''}`);
  }
  if (def.supportedValues !== undefined) lines.push(`supported by pgkeep: ${def.supportedValues.join(', ')}`);
  lines.push(`set in: ${places(def)}`);
  if (def.group !== undefined) lines.push(`indexed: ${keyName(def, 1)} ... ${keyName(def, 256)}`);
  if (def.secure) lines.push('secret: refused on the command line and never logged');
  if (def.deprecatedNames !== undefined)
    lines.push(`deprecated names: ${def.deprecatedNames.map((name) => name.replace('?', 'N')).join(', ')}`);
  lines.push('');
  return lines.join('\n');
}

export function parseHelpTopic(
  params: readonly string[],
  implemented: readonly CommandName[],
): { command?: CommandName; option?: string } {
  const [commandName, option, extra] = params;
  if (commandName === undefined) return {};
  if (!isCommandName(commandName) || !implemented.includes(commandName))
    throw new PgkeepError('CommandInvalid', `unknown command '${commandName}'`, { hint: "'pgkeep help' lists the commands" });
  if (extra !== undefined) throw new PgkeepError('ParamInvalid', `help takes at most a command and an option, not '${extra}'`);
  return option === undefined ? { command: commandName } : { command: commandName, option: option.replace(/^--/, '') };
}

function groupOptions(options: readonly OptionDef[]): [string, OptionDef[]][] {
  const sorted = [...options].sort((a, b) => (a.name < b.name ? -1 : 1));
  return [
    ['Command Options', sorted.filter((o) => o.section === 'command-line')],
    [
      'General Options',
      sorted.filter((o) => o.section !== 'command-line' && o.group === undefined && !o.name.startsWith('log-')),
    ],
    ['Log Options', sorted.filter((o) => o.section !== 'command-line' && o.name.startsWith('log-'))],
    ['Repository Options', sorted.filter((o) => o.section !== 'command-line' && o.group === 'repo')],
    ['Stanza Options', sorted.filter((o) => o.section !== 'command-line' && o.group === 'pg')],
  ];
}

function displayName(def: OptionDef): string {
  return def.name;
}

function defaultFor(def: OptionDef, command: CommandName): string | undefined {
  const rule = def.commands[command];
  const value = rule !== undefined && 'default' in rule ? rule.default : def.default;
  return value === undefined || value === null ? undefined : formatValue(def, value);
}

function formatValue(def: OptionDef, value: OptionValue): string {
  if (typeof value === 'boolean') return value ? 'y' : 'n';
  if (def.type === 'size' && typeof value === 'number') return formatSize(value);
  return String(value);
}

function places(def: OptionDef): string {
  if (def.section === 'command-line') return 'command line, environment';
  if (def.section === 'stanza') return 'command line, environment, [<stanza>] and [<stanza>:<command>] sections';
  return 'command line, environment, any configuration section';
}

function capitalize(text: string): string {
  return text.length === 0 ? text : text[0]!.toUpperCase() + text.slice(1);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}
