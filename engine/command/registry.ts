import type { CommandName } from '../config/command-table.js';
import type { CommandEntry } from './command.js';

/**
 * The commands pgkeep can run. A name missing here is an unknown command on the command line and
 * is not listed by help, even though the option registry knows it (pgBackRest's config files may
 * mention it).
 */
const entries: CommandEntry[] = [
  { name: 'help', load: () => import('./help/help.js'), needsConfig: false, refuseRoot: false },
  { name: 'version', load: () => import('./version/version.js'), needsConfig: false, refuseRoot: false },
];

export const commandRegistry: ReadonlyMap<CommandName, CommandEntry> = new Map(entries.map((entry) => [entry.name, entry]));

export function implementedCommands(): CommandName[] {
  return [...commandRegistry.keys()].sort();
}
