import type { CommandName } from '../config/command-table.js';
import type { CommandEntry } from './command.js';

/**
 * The commands pgkeep can run. A name missing here is an unknown command on the command line and
 * is not listed by help, even though the option registry knows it (pgBackRest's config files may
 * mention it).
 */
const entries: CommandEntry[] = [
  { name: 'annotate', load: () => import('./annotate/annotate.js'), needsConfig: true, refuseRoot: true },
  { name: 'archive-get', load: () => import('./archive-get/archive-get.js'), needsConfig: true, refuseRoot: true },
  { name: 'archive-push', load: () => import('./archive-push/archive-push.js'), needsConfig: true, refuseRoot: true },
  { name: 'backup', load: () => import('./backup/backup.js'), needsConfig: true, refuseRoot: true },
  { name: 'check', load: () => import('./check/check.js'), needsConfig: true, refuseRoot: true },
  { name: 'expire', load: () => import('./expire/expire.js'), needsConfig: true, refuseRoot: true },
  { name: 'help', load: () => import('./help/help.js'), needsConfig: false, refuseRoot: false },
  { name: 'info', load: () => import('./info/info.js'), needsConfig: true, refuseRoot: false },
  { name: 'repo-get', load: () => import('./repo/get.js'), needsConfig: true, refuseRoot: false },
  { name: 'repo-ls', load: () => import('./repo/ls.js'), needsConfig: true, refuseRoot: false },
  { name: 'restore', load: () => import('./restore/restore.js'), needsConfig: true, refuseRoot: true },
  { name: 'stanza-create', load: () => import('./stanza-create/stanza-create.js'), needsConfig: true, refuseRoot: true },
  { name: 'stanza-delete', load: () => import('./stanza-delete/stanza-delete.js'), needsConfig: true, refuseRoot: true },
  { name: 'stanza-upgrade', load: () => import('./stanza-upgrade/stanza-upgrade.js'), needsConfig: true, refuseRoot: true },
  { name: 'start', load: () => import('./start/start.js'), needsConfig: true, refuseRoot: true },
  { name: 'stop', load: () => import('./stop/stop.js'), needsConfig: true, refuseRoot: true },
  { name: 'verify', load: () => import('./verify/verify.js'), needsConfig: true, refuseRoot: false },
  { name: 'ui', load: () => import('./ui/ui.js'), needsConfig: true, refuseRoot: false },
  { name: 'version', load: () => import('./version/version.js'), needsConfig: false, refuseRoot: false },
];

export const commandRegistry: ReadonlyMap<CommandName, CommandEntry> = new Map(entries.map((entry) => [entry.name, entry]));

export function implementedCommands(): CommandName[] {
  return [...commandRegistry.keys()].sort();
}
