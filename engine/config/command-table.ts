/**
 * Every command name pgkeep knows: pgBackRest's commands (so that a pgbackrest.conf with
 * `[global:restore]` or `[demo:archive-push]` sections loads) and pgkeep's own. Which of them
 * pgkeep can run is decided by the command registry in engine/command/, not here: a command with
 * no handler is an unknown command on the command line and is not listed by help.
 */
export const commandNames = [
  'annotate',
  'archive-get',
  'archive-push',
  'backup',
  'check',
  'expire',
  'help',
  'info',
  'manifest',
  'remote',
  'repo-create',
  'repo-get',
  'repo-ls',
  'repo-put',
  'repo-rm',
  'restore',
  'server',
  'server-ping',
  'stanza-create',
  'stanza-delete',
  'stanza-upgrade',
  'start',
  'stop',
  'ui',
  'verify',
  'version',
] as const;

export type CommandName = (typeof commandNames)[number];

export type LockType = 'none' | 'archive' | 'backup' | 'all';

export interface CommandDef {
  readonly summary: string;
  readonly description: string;
  /** Which stanza lock the command takes before it runs (pgBackRest's lock-type). */
  readonly lockType: LockType;
  /** Whether the command takes positional parameters after its name. */
  readonly parameters: boolean;
  /** Whether the command writes a log file at log-level-file. */
  readonly logFile: boolean;
  /** Whether the command changes the repository (refused while a stop file exists). */
  readonly modifiesRepo: boolean;
}

const base = { lockType: 'none', parameters: false, logFile: true, modifiesRepo: false } as const;

export const commandTable: Readonly<Record<CommandName, CommandDef>> = {
  annotate: {
    ...base,
    summary: 'add or change annotations of a backup',
    description:
      'Adds, changes or removes (key with an empty value) the annotations of the backup set --set in backup.info, where info --set shows them.',
    lockType: 'backup',
    logFile: false,
    modifiesRepo: true,
  },
  'archive-get': {
    ...base,
    summary: 'get a WAL segment from the archive',
    description:
      'Called by PostgreSQL as restore_command: finds the segment under any compression, decompresses it, ' +
      'verifies its checksum and writes it atomically. Exits 1 when the segment is not in the archive, ' +
      'which PostgreSQL reads as the end of the archived WAL.',
    lockType: 'archive',
    parameters: true,
    logFile: false,
  },
  'archive-push': {
    ...base,
    summary: 'push a WAL segment to the archive',
    description:
      'Called by PostgreSQL as archive_command: checks that the segment belongs to the stanza, stores it ' +
      'compressed under its name and checksum, and accepts a segment that is already archived with the ' +
      'same content.',
    lockType: 'archive',
    parameters: true,
    logFile: false,
    modifiesRepo: true,
  },
  backup: {
    ...base,
    summary: 'back up a database cluster',
    description: 'Takes a full, differential or incremental backup of the cluster into the repository.',
    lockType: 'backup',
    modifiesRepo: true,
  },
  check: {
    ...base,
    summary: 'check the configuration and that WAL reaches the archive',
    description:
      'Checks that the stanza matches the database, then forces a WAL switch and waits until the segment ' +
      'is in the archive (archive-timeout).',
    logFile: false,
  },
  expire: {
    ...base,
    summary: 'remove backups and WAL that retention no longer keeps',
    description: '',
    lockType: 'backup',
    modifiesRepo: true,
  },
  help: { ...base, summary: 'show help for a command or an option', description: '', parameters: true, logFile: false },
  info: {
    ...base,
    summary: 'show the backups and archive of stanzas',
    description: 'Prints every stanza with its backups and WAL archive range, as text or as JSON (--output=json).',
    logFile: false,
  },
  manifest: { ...base, summary: 'show a backup manifest', description: '', logFile: false },
  remote: {
    ...base,
    summary: 'serve the pgkeep protocol on standard input and output',
    description: 'Run by another host over SSH; not meant to be run by hand.',
    logFile: false,
  },
  'repo-create': { ...base, summary: 'create the repository', description: '', logFile: false, modifiesRepo: true },
  'repo-get': {
    ...base,
    summary: 'get a file from the repository',
    description: 'Writes a repository file to standard output as it is stored (compressed files stay compressed).',
    parameters: true,
    logFile: false,
  },
  'repo-ls': {
    ...base,
    summary: 'list files in the repository',
    description: 'Lists a path of the repository: names, or with --output=json their type, size and time.',
    parameters: true,
    logFile: false,
  },
  'repo-put': {
    ...base,
    summary: 'put a file in the repository',
    description: '',
    parameters: true,
    logFile: false,
    modifiesRepo: true,
  },
  'repo-rm': {
    ...base,
    summary: 'remove files from the repository',
    description: '',
    parameters: true,
    logFile: false,
    modifiesRepo: true,
  },
  restore: {
    ...base,
    summary: 'restore a backup',
    description: 'Restores a backup into the data directory and tablespaces, optionally to a point in time.',
  },
  server: { ...base, summary: 'run a TLS server', description: '' },
  'server-ping': { ...base, summary: 'ping a TLS server', description: '', logFile: false },
  'stanza-create': {
    ...base,
    summary: 'create the stanza in the repository',
    description: 'Writes archive.info and backup.info for the cluster, after checking the database.',
    lockType: 'all',
    modifiesRepo: true,
  },
  'stanza-delete': {
    ...base,
    summary: 'delete the stanza and all its backups and WAL',
    description: 'The stanza must be stopped first (stop), and PostgreSQL must not be running unless --force is given.',
    lockType: 'all',
    modifiesRepo: true,
  },
  'stanza-upgrade': {
    ...base,
    summary: 'update the stanza after a PostgreSQL major upgrade',
    description: 'Adds the new database version and system identifier to archive.info and backup.info.',
    lockType: 'all',
    modifiesRepo: true,
  },
  start: { ...base, summary: 'allow commands to change the repository again', description: 'Removes the stop file.' },
  stop: {
    ...base,
    summary: 'stop commands from changing the repository',
    description: 'Creates a stop file; with --force, also stops running backups.',
  },
  ui: {
    ...base,
    summary: 'serve the pgkeep user interface to a local browser',
    description: "Serves the desktop app's interface on 127.0.0.1 behind a one-time token printed in the URL.",
    logFile: false,
  },
  verify: {
    ...base,
    summary: 'verify the contents of the repository',
    description: 'Checks every backup file and WAL segment against its recorded checksum and size.',
  },
  version: { ...base, summary: 'show the pgkeep version', description: '', logFile: false },
};

export function isCommandName(name: string): name is CommandName {
  return (commandNames as readonly string[]).includes(name);
}
