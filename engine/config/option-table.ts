import type { CommandName } from './command-table.js';
import type { CommandRule, OptionDef } from './option-types.js';

/**
 * The one option registry. Names, types, defaults, ranges, sections and the commands that take
 * each option follow pgBackRest 2.45, so an existing pgbackrest.conf resolves the same way.
 * Parsing, validation, help and the UI's settings editor all read this table.
 *
 * Defaults that differ from pgBackRest on purpose: log-path and spool-path (pgkeep's own
 * directories; lock-path and repo-path stay pgBackRest's so both tools see the same repository and
 * each other's locks), and config / config-path / config-include-path (pgkeep's own files).
 */

type Rules = Partial<Record<CommandName, CommandRule>>;

function on(...names: CommandName[]): Rules {
  return Object.fromEntries(names.map((name) => [name, {}])) as Rules;
}

// Command lists that many options share (pgBackRest's yaml refers to them by an option name).
const REPO_COMMANDS = on(
  'annotate', 'archive-get', 'archive-push', 'backup', 'check', 'expire', 'info', 'manifest', 'repo-create',
  'repo-get', 'repo-ls', 'repo-put', 'repo-rm', 'restore', 'stanza-create', 'stanza-delete', 'stanza-upgrade', 'verify',
  'remote',
);
const BUFFER_COMMANDS = on(
  'annotate', 'archive-get', 'archive-push', 'backup', 'check', 'expire', 'info', 'manifest', 'repo-create',
  'repo-get', 'repo-ls', 'repo-put', 'repo-rm', 'restore', 'server', 'server-ping', 'stanza-create', 'stanza-delete',
  'stanza-upgrade', 'verify', 'remote',
);
const PROTOCOL_COMMANDS = on(
  'annotate', 'archive-get', 'archive-push', 'backup', 'check', 'info', 'manifest', 'repo-create', 'repo-get',
  'repo-ls', 'repo-put', 'repo-rm', 'restore', 'server', 'stanza-create', 'stanza-delete', 'stanza-upgrade', 'verify',
  'remote',
);
const LOCK_COMMANDS = on(
  'annotate', 'archive-get', 'archive-push', 'backup', 'expire', 'info', 'restore', 'stanza-create', 'stanza-delete',
  'stanza-upgrade', 'start', 'stop', 'remote',
);
const PG_COMMANDS = on(
  'archive-get', 'archive-push', 'backup', 'check', 'manifest', 'restore', 'stanza-create', 'stanza-delete',
  'stanza-upgrade', 'remote',
);
const PG_DB_COMMANDS = on('backup', 'check', 'stanza-create', 'stanza-delete', 'stanza-upgrade', 'remote');
const PG_HOST_COMMANDS = on(
  'archive-get', 'archive-push', 'backup', 'check', 'manifest', 'restore', 'stanza-create', 'stanza-delete',
  'stanza-upgrade',
);
const REPO_HOST_COMMANDS = on(
  'annotate', 'archive-get', 'archive-push', 'check', 'info', 'manifest', 'repo-create', 'repo-get', 'repo-ls',
  'repo-put', 'repo-rm', 'restore', 'stanza-create', 'stanza-delete', 'stanza-upgrade', 'verify',
);
const RETENTION_COMMANDS = on('backup', 'expire');
const ALL_LOGGING = on(
  'annotate', 'archive-get', 'archive-push', 'backup', 'check', 'expire', 'help', 'info', 'manifest', 'remote',
  'repo-create', 'repo-get', 'repo-ls', 'repo-put', 'repo-rm', 'restore', 'server', 'server-ping', 'stanza-create',
  'stanza-delete', 'stanza-upgrade', 'start', 'stop', 'ui', 'verify', 'version',
);

const LOG_LEVELS = ['off', 'error', 'warn', 'info', 'detail', 'debug', 'trace'] as const;
const OBJECT_STORE = 'object-store repositories (S3, Azure, GCS) are not supported by pgkeep yet';
const TLS = 'the TLS protocol is not supported by pgkeep: use SSH (the default host type)';
const BLOCK = 'block incremental backup (beta in pgBackRest 2.45) is not supported by pgkeep';

function s3(name: string, summary: string, extra: Partial<OptionDef> = {}): OptionDef {
  return { name, type: 'string', section: 'global', group: 'repo', commands: REPO_COMMANDS, required: false, unsupported: OBJECT_STORE, summary, ...extra };
}

export const optionTable: readonly OptionDef[] = [
  // Command-line only
  {
    name: 'config', type: 'string', section: 'command-line', default: '/etc/pgkeep/pgkeep.conf', commands: ALL_LOGGING,
    summary: 'configuration file',
    description: 'An existing pgbackrest.conf works unchanged: pass it with --config=/etc/pgbackrest/pgbackrest.conf. --no-config loads no main file.',
  },
  {
    name: 'config-include-path', type: 'path', section: 'command-line', default: '/etc/pgkeep/conf.d', commands: ALL_LOGGING,
    summary: 'directory of additional configuration files (*.conf)',
  },
  {
    name: 'config-path', type: 'path', section: 'command-line', default: '/etc/pgkeep', commands: ALL_LOGGING,
    summary: 'base directory of the configuration file and conf.d',
  },
  { name: 'dry-run', type: 'boolean', section: 'command-line', default: false, commands: on('expire', 'restore'), summary: 'show what would be done without doing it' },
  {
    name: 'force', type: 'boolean', section: 'command-line', default: false,
    commands: { backup: { depend: { option: 'online', values: [false] } }, restore: {}, 'stanza-delete': {}, stop: {}, 'stanza-create': {} },
    summary: 'force the command past a safety check',
  },
  { name: 'online', type: 'boolean', section: 'command-line', default: true, commands: on('backup', 'check', 'stanza-create', 'stanza-upgrade'), summary: 'back up a running cluster (--no-online for a stopped one)' },
  {
    name: 'output', type: 'enum', section: 'command-line', default: 'text', allow: ['text', 'json'],
    commands: { info: {}, 'repo-ls': {}, manifest: {}, restore: {}, backup: {}, expire: {}, verify: { default: 'none', allow: ['none', 'text', 'json'] } },
    summary: 'output format',
  },
  {
    name: 'set', type: 'string', section: 'command-line', required: false,
    commands: { annotate: { required: true }, expire: {}, info: { depend: { option: 'stanza' } }, manifest: { default: 'latest', required: true }, restore: { default: 'latest', required: true }, verify: {} },
    summary: 'backup set (label)',
  },
  {
    name: 'stanza', type: 'string', section: 'command-line', required: true,
    commands: {
      annotate: {}, 'archive-get': {}, 'archive-push': {}, backup: {}, check: {}, expire: {}, info: { required: false }, manifest: {},
      'repo-create': { required: false }, 'repo-get': { required: false }, 'repo-ls': { required: false }, 'repo-put': { required: false },
      'repo-rm': { required: false }, restore: {}, 'stanza-create': {}, 'stanza-delete': {}, 'stanza-upgrade': {}, start: { required: false },
      stop: { required: false }, verify: {}, remote: { required: false }, ui: { required: false },
    },
    summary: 'stanza: the name of a cluster\'s configuration and repository area',
  },
  { name: 'target', type: 'string', section: 'command-line', required: true, commands: on('restore'), depend: { option: 'type', values: ['lsn', 'name', 'time', 'xid'] }, summary: 'recovery target (time, xid, lsn or restore point name)' },
  { name: 'target-action', type: 'enum', section: 'command-line', default: 'pause', allow: ['pause', 'promote', 'shutdown'], commands: on('restore'), depend: { option: 'type', values: ['immediate', 'lsn', 'name', 'time', 'xid'] }, summary: 'what PostgreSQL does when it reaches the target' },
  { name: 'target-exclusive', type: 'boolean', section: 'command-line', default: false, commands: on('restore'), depend: { option: 'type', values: ['lsn', 'time', 'xid'] }, summary: 'stop just before the target instead of just after' },
  { name: 'target-timeline', type: 'string', section: 'command-line', required: false, commands: on('restore'), depend: { option: 'type', values: ['default', 'lsn', 'name', 'standby', 'time', 'xid'] }, summary: 'timeline to recover along' },
  {
    name: 'type', type: 'enum', section: 'command-line',
    commands: {
      backup: { allow: ['full', 'diff', 'incr'], default: 'incr' },
      info: { required: false, allow: ['full', 'diff', 'incr'] },
      expire: { required: false, allow: ['full', 'diff', 'incr'] },
      restore: { allow: ['lsn', 'name', 'time', 'xid', 'preserve', 'none', 'immediate', 'default', 'standby'], default: 'default' },
    },
    summary: 'backup type, or recovery type for restore',
  },
  { name: 'verbose', type: 'boolean', section: 'command-line', default: false, commands: on('verify'), summary: 'report every file checked' },
  { name: 'exec-id', type: 'string', section: 'command-line', required: false, internal: true, commands: ALL_LOGGING, summary: 'id of the process tree' },
  { name: 'process', type: 'integer', section: 'command-line', required: false, internal: true, range: [0, 1024], commands: ALL_LOGGING, summary: 'process number' },
  { name: 'remote-type', type: 'enum', section: 'command-line', required: false, internal: true, allow: ['pg', 'repo'], commands: on('remote'), summary: 'what the remote serves' },
  { name: 'cipher-pass', type: 'string', section: 'command-line', required: false, internal: true, secure: true, commands: on('repo-get', 'repo-put'), summary: 'passphrase of a repository file' },
  { name: 'filter', type: 'string', section: 'command-line', required: false, commands: on('manifest', 'repo-ls'), summary: 'regular expression the listed names must match' },
  { name: 'ignore-missing', type: 'boolean', section: 'command-line', default: false, commands: on('repo-get'), summary: 'succeed when the file is missing' },
  { name: 'raw', type: 'boolean', section: 'command-line', default: false, commands: on('repo-get', 'repo-put'), summary: 'do not decompress or decrypt' },
  { name: 'recurse', type: 'boolean', section: 'command-line', default: false, commands: on('repo-ls', 'repo-rm'), summary: 'include subdirectories' },
  { name: 'sort', type: 'enum', section: 'command-line', default: 'asc', allow: ['none', 'asc', 'desc'], commands: on('repo-ls'), summary: 'sort order' },
  { name: 'ui-address', type: 'string', section: 'command-line', default: '127.0.0.1', commands: on('ui'), summary: 'address the browser UI listens on (anything but loopback needs --ui-allow-remote)' },
  { name: 'ui-port', type: 'integer', section: 'command-line', default: 0, range: [0, 65535], commands: on('ui'), summary: 'port the browser UI listens on (0: any free port)' },
  { name: 'ui-allow-remote', type: 'boolean', section: 'command-line', default: false, commands: on('ui'), summary: 'allow the browser UI to listen on a non-loopback address' },
  { name: 'allow-root', type: 'boolean', section: 'command-line', default: false, commands: on('archive-push', 'archive-get', 'backup', 'check', 'stanza-create', 'stanza-upgrade', 'stanza-delete', 'restore', 'expire', 'verify'), summary: 'let the command run as root', description: 'Files written as root may not be readable or writable by the postgres user afterwards.' },

  // General
  { name: 'archive-timeout', type: 'time', section: 'global', default: 60, range: [0.1, 86400], commands: on('archive-get', 'archive-push', 'backup', 'check'), summary: 'seconds to wait for WAL to reach the archive' },
  {
    name: 'buffer-size', type: 'size', section: 'global', default: 1048576,
    allow: ['16KiB', '32KiB', '64KiB', '128KiB', '256KiB', '512KiB', '1MiB', '2MiB', '4MiB', '8MiB', '16MiB'],
    commands: BUFFER_COMMANDS, summary: 'size of buffers for copying files',
  },
  { name: 'cmd', type: 'string', section: 'global', required: false, commands: REPO_COMMANDS, summary: 'pgkeep command to run on remote hosts and in restore_command' },
  { name: 'cmd-ssh', type: 'string', section: 'global', default: 'ssh', commands: REPO_COMMANDS, summary: 'ssh client command' },
  { name: 'compress', type: 'boolean', section: 'global', default: true, internal: true, commands: on('archive-push', 'backup'), summary: 'deprecated: use compress-type' },
  { name: 'compress-level', type: 'integer', section: 'global', required: false, commands: on('archive-push', 'backup'), summary: 'compression level (default depends on compress-type)' },
  { name: 'compress-level-network', type: 'integer', section: 'global', default: 3, range: [0, 9], commands: PROTOCOL_COMMANDS, summary: 'compression level for data sent over the network' },
  {
    name: 'compress-type', type: 'enum', section: 'global', default: 'gz', allow: ['none', 'bz2', 'gz', 'lz4', 'zst'],
    supportedValues: ['none', 'gz', 'lz4'], commands: on('archive-push', 'backup'), summary: 'compression of files written to the repository',
    description: 'pgkeep writes gz, lz4 and none; it reads gz, lz4, zst and none.',
  },
  { name: 'db-timeout', type: 'time', section: 'global', default: 1800, range: [0.1, 604800], commands: on('archive-get', 'archive-push', 'backup', 'check', 'stanza-create', 'stanza-delete', 'stanza-upgrade'), summary: 'seconds to wait for database queries' },
  { name: 'delta', type: 'boolean', section: 'global', default: false, commands: on('backup', 'restore'), summary: 'compare files by checksum instead of size and time' },
  { name: 'io-timeout', type: 'time', section: 'global', default: 60, range: [0.1, 3600], commands: BUFFER_COMMANDS, summary: 'seconds to wait for network reads and writes' },
  {
    name: 'job-retry', type: 'integer', section: 'global', default: 2, range: [0, 360],
    commands: { 'archive-get': { default: 1 }, 'archive-push': { default: 1 }, backup: {}, restore: {}, verify: {} }, summary: 'times a failed file job is retried',
  },
  {
    name: 'job-retry-interval', type: 'time', section: 'global', default: 15, range: [0, 900],
    commands: on('archive-get', 'archive-push', 'backup', 'restore', 'verify'), summary: 'seconds before the second retry of a job',
  },
  { name: 'lock-path', type: 'path', section: 'global', default: '/tmp/pgbackrest', commands: LOCK_COMMANDS, summary: 'directory of lock and stop files' },
  { name: 'neutral-umask', type: 'boolean', section: 'global', default: true, commands: REPO_COMMANDS, summary: 'use umask 0000 so modes are exactly as recorded' },
  { name: 'process-max', type: 'integer', section: 'global', default: 1, range: [1, 999], commands: on('archive-get', 'archive-push', 'backup', 'restore', 'verify'), summary: 'number of worker processes for file jobs' },
  { name: 'protocol-timeout', type: 'time', section: 'global', default: 1830, range: [0.1, 604800], commands: PROTOCOL_COMMANDS, summary: 'seconds to wait for a remote reply' },
  { name: 'sck-keep-alive', type: 'boolean', section: 'global', default: true, commands: BUFFER_COMMANDS, summary: 'TCP keep-alive on sockets' },
  {
    name: 'spool-path', type: 'path', section: 'global', default: '/var/spool/pgkeep',
    commands: { 'archive-get': { depend: { option: 'archive-async', values: [true] } }, 'archive-push': { depend: { option: 'archive-async', values: [true] } }, restore: {} },
    summary: 'directory of the asynchronous archive queues',
  },
  { name: 'tcp-keep-alive-count', type: 'integer', section: 'global', required: false, range: [1, 32], commands: BUFFER_COMMANDS, summary: 'TCP keep-alive probes' },
  { name: 'tcp-keep-alive-idle', type: 'integer', section: 'global', required: false, range: [1, 3600], commands: BUFFER_COMMANDS, summary: 'TCP keep-alive idle seconds' },
  { name: 'tcp-keep-alive-interval', type: 'integer', section: 'global', required: false, range: [1, 900], commands: BUFFER_COMMANDS, summary: 'TCP keep-alive interval seconds' },
  { name: 'tls-server-address', type: 'string', section: 'global', default: 'localhost', commands: on('server', 'server-ping'), unsupported: TLS, summary: 'TLS server address' },
  { name: 'tls-server-auth', type: 'hash', section: 'global', required: false, commands: on('server'), unsupported: TLS, summary: 'TLS client authorizations' },
  { name: 'tls-server-ca-file', type: 'path', section: 'global', required: false, commands: on('server'), unsupported: TLS, summary: 'TLS server CA file' },
  { name: 'tls-server-cert-file', type: 'path', section: 'global', required: false, commands: on('server'), unsupported: TLS, summary: 'TLS server certificate file' },
  { name: 'tls-server-key-file', type: 'path', section: 'global', required: false, commands: on('server'), unsupported: TLS, summary: 'TLS server key file' },
  { name: 'tls-server-port', type: 'integer', section: 'global', default: 8432, range: [1, 65535], commands: on('server', 'server-ping'), unsupported: TLS, summary: 'TLS server port' },

  // Logging
  { name: 'log-level-console', type: 'enum', section: 'global', default: 'warn', allow: LOG_LEVELS, commands: ALL_LOGGING, summary: 'level of messages written to standard output' },
  { name: 'log-level-file', type: 'enum', section: 'global', default: 'info', allow: LOG_LEVELS, commands: ALL_LOGGING, summary: 'level of messages written to the log file' },
  { name: 'log-level-stderr', type: 'enum', section: 'global', default: 'warn', allow: LOG_LEVELS, commands: ALL_LOGGING, summary: 'level of messages written to standard error' },
  { name: 'log-path', type: 'path', section: 'global', default: '/var/log/pgkeep', commands: ALL_LOGGING, summary: 'directory of log files' },
  { name: 'log-subprocess', type: 'boolean', section: 'global', default: false, commands: REPO_COMMANDS, summary: 'log worker processes too' },
  { name: 'log-timestamp', type: 'boolean', section: 'global', default: true, commands: ALL_LOGGING, summary: 'start log lines with a timestamp' },

  // Archive
  { name: 'archive-async', type: 'boolean', section: 'global', default: false, commands: on('archive-get', 'archive-push'), summary: 'push and get WAL in a background process' },
  { name: 'archive-get-queue-max', type: 'size', section: 'global', default: 134217728, range: [0, 4503599627370496], commands: on('archive-get'), summary: 'bytes of WAL fetched ahead for recovery' },
  { name: 'archive-header-check', type: 'boolean', section: 'global', default: true, commands: on('archive-push'), summary: 'check the system id and version in each WAL header' },
  { name: 'archive-missing-retry', type: 'boolean', section: 'global', default: true, commands: on('archive-get'), summary: 'retry a missing segment in asynchronous mode' },
  {
    name: 'archive-push-queue-max', type: 'size', section: 'global', required: false, range: [0, 4503599627370496], commands: on('archive-push'),
    deprecatedNames: ['archive-queue-max'], summary: 'bytes of WAL allowed to wait; more is dropped with a warning rather than filling the disk',
  },

  // Backup
  { name: 'annotation', type: 'hash', section: 'global', required: false, commands: { annotate: { required: true }, backup: {} }, summary: 'key=value notes stored with the backup' },
  {
    name: 'archive-check', type: 'boolean', section: 'global', default: true,
    commands: { 'archive-push': {}, backup: { depend: { option: 'online', values: [true], defaultWhenUnmet: false } }, check: {} },
    summary: 'check that the WAL a backup needs reached the archive',
  },
  {
    name: 'archive-copy', type: 'boolean', section: 'global', default: false,
    commands: { backup: { depend: { option: 'archive-check', values: [true], defaultWhenUnmet: false } } },
    summary: 'copy the WAL a backup needs into the backup',
  },
  {
    name: 'archive-mode-check', type: 'boolean', section: 'global', default: true, commands: on('archive-push', 'backup', 'check'),
    summary: 'check that archive_mode is not always on a standby',
  },
  { name: 'backup-standby', type: 'boolean', section: 'global', default: false, commands: on('backup', 'check'), unsupported: 'backup from a standby is not supported by pgkeep yet', summary: 'back up from a standby' },
  { name: 'checksum-page', type: 'boolean', section: 'global', required: false, commands: on('backup'), summary: 'validate page checksums (default: when the cluster has data checksums)' },
  { name: 'exclude', type: 'list', section: 'global', required: false, commands: on('backup'), summary: 'path relative to the data directory to leave out (repeat for more)' },
  { name: 'expire-auto', type: 'boolean', section: 'global', default: true, commands: on('backup'), summary: 'expire by retention after each backup' },
  { name: 'manifest-save-threshold', type: 'size', section: 'global', default: 1073741824, range: [1, 1099511627776], commands: on('backup'), summary: 'bytes copied between saves of the resume checkpoint' },
  { name: 'resume', type: 'boolean', section: 'global', default: true, commands: on('backup'), summary: 'resume an interrupted backup' },
  { name: 'start-fast', type: 'boolean', section: 'global', default: false, commands: on('backup'), summary: 'ask for an immediate checkpoint at backup start' },
  { name: 'stop-auto', type: 'boolean', section: 'global', default: false, commands: on('backup'), summary: 'stop an earlier exclusive backup (PostgreSQL < 9.6 only)' },

  // Restore
  { name: 'archive-mode', type: 'enum', section: 'global', default: 'preserve', allow: ['off', 'preserve'], commands: on('restore'), summary: 'archive_mode of the restored cluster' },
  { name: 'db-exclude', type: 'list', section: 'global', required: false, commands: on('restore'), unsupported: 'selective restore is not supported by pgkeep yet', summary: 'database to leave out of the restore' },
  { name: 'db-include', type: 'list', section: 'global', required: false, commands: on('restore'), unsupported: 'selective restore is not supported by pgkeep yet', summary: 'database to restore alone' },
  { name: 'link-all', type: 'boolean', section: 'global', default: false, commands: on('restore'), summary: 'restore every symlink as a symlink' },
  { name: 'link-map', type: 'hash', section: 'global', required: false, commands: on('restore'), summary: 'new destination of a symlink: link=path' },
  { name: 'tablespace-map', type: 'hash', section: 'global', required: false, commands: on('restore'), summary: 'new location of a tablespace: name-or-oid=path' },
  { name: 'tablespace-map-all', type: 'path', section: 'global', required: false, commands: on('restore'), summary: 'directory to restore every tablespace under' },
  {
    name: 'recovery-option', type: 'hash', section: 'global', required: false, commands: on('restore'),
    depend: { option: 'type', values: ['default', 'immediate', 'lsn', 'name', 'time', 'standby', 'xid'] }, summary: 'extra recovery setting: key=value',
  },

  // Stanza: the PostgreSQL side (pg1 ... pg256)
  { name: 'pg', type: 'integer', section: 'command-line', required: false, internal: true, range: [1, 256], commands: on('backup', 'manifest', 'remote'), summary: 'which pgN to use' },
  { name: 'pg-database', type: 'string', section: 'stanza', group: 'pg', default: 'postgres', commands: PG_DB_COMMANDS, summary: 'database to connect to' },
  { name: 'pg-host', type: 'string', section: 'stanza', group: 'pg', required: false, commands: PG_HOST_COMMANDS, deprecatedNames: ['db-host', 'db?-host'], summary: 'host of the cluster, reached over SSH' },
  { name: 'pg-host-cmd', type: 'string', section: 'stanza', group: 'pg', required: false, commands: PG_HOST_COMMANDS, depend: { option: 'pg-host' }, deprecatedNames: ['db-cmd', 'db?-cmd'], summary: 'pgkeep command on the cluster host' },
  { name: 'pg-host-config', type: 'string', section: 'stanza', group: 'pg', default: '/etc/pgkeep/pgkeep.conf', commands: PG_HOST_COMMANDS, depend: { option: 'pg-host' }, deprecatedNames: ['db-config', 'db?-config'], summary: 'configuration file on the cluster host' },
  { name: 'pg-host-config-include-path', type: 'path', section: 'stanza', group: 'pg', default: '/etc/pgkeep/conf.d', commands: PG_HOST_COMMANDS, depend: { option: 'pg-host' }, summary: 'conf.d directory on the cluster host' },
  { name: 'pg-host-config-path', type: 'path', section: 'stanza', group: 'pg', default: '/etc/pgkeep', commands: PG_HOST_COMMANDS, depend: { option: 'pg-host' }, summary: 'configuration directory on the cluster host' },
  { name: 'pg-host-port', type: 'integer', section: 'stanza', group: 'pg', required: false, range: [0, 65535], commands: PG_HOST_COMMANDS, depend: { option: 'pg-host' }, deprecatedNames: ['db-ssh-port', 'db?-ssh-port'], summary: 'SSH port of the cluster host' },
  { name: 'pg-host-user', type: 'string', section: 'stanza', group: 'pg', default: 'postgres', commands: PG_HOST_COMMANDS, depend: { option: 'pg-host' }, deprecatedNames: ['db-user', 'db?-user'], summary: 'SSH user on the cluster host' },
  { name: 'pg-host-type', type: 'enum', section: 'global', group: 'pg', default: 'ssh', allow: ['ssh', 'tls'], supportedValues: ['ssh'], commands: PG_HOST_COMMANDS, summary: 'protocol to the cluster host' },
  { name: 'pg-host-cert-file', type: 'string', section: 'global', group: 'pg', required: false, commands: PG_HOST_COMMANDS, unsupported: TLS, summary: 'TLS client certificate' },
  { name: 'pg-host-key-file', type: 'string', section: 'global', group: 'pg', required: false, commands: PG_HOST_COMMANDS, unsupported: TLS, summary: 'TLS client key' },
  { name: 'pg-host-ca-file', type: 'string', section: 'global', group: 'pg', required: false, commands: PG_HOST_COMMANDS, unsupported: TLS, summary: 'TLS CA file' },
  { name: 'pg-host-ca-path', type: 'string', section: 'global', group: 'pg', required: false, commands: PG_HOST_COMMANDS, unsupported: TLS, summary: 'TLS CA directory' },
  {
    name: 'pg-path', type: 'path', section: 'stanza', group: 'pg', required: true,
    commands: { ...PG_COMMANDS, 'archive-push': { required: false }, manifest: { required: false }, remote: { required: false } },
    deprecatedNames: ['db-path', 'db?-path'], summary: 'data directory of the cluster',
  },
  { name: 'pg-port', type: 'integer', section: 'stanza', group: 'pg', default: 5432, range: [0, 65535], commands: PG_DB_COMMANDS, deprecatedNames: ['db-port', 'db?-port'], summary: 'port of the cluster' },
  { name: 'pg-socket-path', type: 'path', section: 'stanza', group: 'pg', required: false, commands: PG_DB_COMMANDS, deprecatedNames: ['db-socket-path', 'db?-socket-path'], summary: 'directory of the cluster\'s Unix socket' },
  { name: 'pg-user', type: 'string', section: 'stanza', group: 'pg', required: false, commands: PG_DB_COMMANDS, summary: 'database user to connect as' },
  { name: 'pg-version-force', type: 'string', section: 'stanza', required: false, internal: true, commands: PG_COMMANDS, summary: 'PostgreSQL version to assume' },

  // Repository (repo1 ... repo256)
  {
    name: 'repo', type: 'integer', section: 'command-line', required: false, range: [1, 256],
    commands: on('annotate', 'archive-get', 'archive-push', 'backup', 'check', 'expire', 'info', 'manifest', 'repo-create', 'repo-get', 'repo-ls', 'repo-put', 'repo-rm', 'restore', 'stanza-create', 'stanza-delete', 'stanza-upgrade', 'start', 'stop', 'verify', 'remote'),
    summary: 'which repository to use',
  },
  { name: 'repo-type', type: 'enum', section: 'global', group: 'repo', default: 'posix', allow: ['azure', 'cifs', 'gcs', 'posix', 's3', 'sftp'], supportedValues: ['posix', 'cifs'], commands: REPO_COMMANDS, summary: 'type of repository storage' },
  { name: 'repo-path', type: 'path', section: 'global', group: 'repo', default: '/var/lib/pgbackrest', commands: REPO_COMMANDS, deprecatedNames: ['repo-path'], summary: 'directory of the repository' },
  { name: 'repo-host', type: 'string', section: 'global', group: 'repo', required: false, commands: REPO_HOST_COMMANDS, deprecatedNames: ['backup-host'], unsupported: 'a repository on another host is not supported by pgkeep yet: run pgkeep on the repository host', summary: 'host of the repository' },
  { name: 'repo-host-cmd', type: 'string', section: 'global', group: 'repo', required: false, commands: REPO_HOST_COMMANDS, depend: { option: 'repo-host' }, deprecatedNames: ['backup-cmd'], summary: 'pgkeep command on the repository host' },
  { name: 'repo-host-config', type: 'string', section: 'global', group: 'repo', default: '/etc/pgkeep/pgkeep.conf', commands: REPO_HOST_COMMANDS, depend: { option: 'repo-host' }, deprecatedNames: ['backup-config'], summary: 'configuration file on the repository host' },
  { name: 'repo-host-config-include-path', type: 'path', section: 'global', group: 'repo', default: '/etc/pgkeep/conf.d', commands: REPO_HOST_COMMANDS, depend: { option: 'repo-host' }, summary: 'conf.d directory on the repository host' },
  { name: 'repo-host-config-path', type: 'path', section: 'global', group: 'repo', default: '/etc/pgkeep', commands: REPO_HOST_COMMANDS, depend: { option: 'repo-host' }, summary: 'configuration directory on the repository host' },
  { name: 'repo-host-port', type: 'integer', section: 'global', group: 'repo', required: false, range: [0, 65535], commands: REPO_HOST_COMMANDS, depend: { option: 'repo-host' }, deprecatedNames: ['backup-ssh-port'], summary: 'SSH port of the repository host' },
  { name: 'repo-host-user', type: 'string', section: 'global', group: 'repo', default: 'pgbackrest', commands: REPO_HOST_COMMANDS, depend: { option: 'repo-host' }, deprecatedNames: ['backup-user'], summary: 'SSH user on the repository host' },
  { name: 'repo-host-type', type: 'enum', section: 'global', group: 'repo', default: 'ssh', allow: ['ssh', 'tls'], supportedValues: ['ssh'], commands: REPO_HOST_COMMANDS, summary: 'protocol to the repository host' },
  { name: 'repo-host-cert-file', type: 'string', section: 'global', group: 'repo', required: false, commands: REPO_HOST_COMMANDS, unsupported: TLS, summary: 'TLS client certificate' },
  { name: 'repo-host-key-file', type: 'string', section: 'global', group: 'repo', required: false, commands: REPO_HOST_COMMANDS, unsupported: TLS, summary: 'TLS client key' },
  { name: 'repo-host-ca-file', type: 'string', section: 'global', group: 'repo', required: false, commands: REPO_HOST_COMMANDS, unsupported: TLS, summary: 'TLS CA file' },
  { name: 'repo-host-ca-path', type: 'string', section: 'global', group: 'repo', required: false, commands: REPO_HOST_COMMANDS, unsupported: TLS, summary: 'TLS CA directory' },
  { name: 'repo-cipher-type', type: 'enum', section: 'global', group: 'repo', default: 'none', allow: ['none', 'aes-256-cbc'], supportedValues: ['none'], deprecatedNames: ['repo-cipher-type'], commands: REPO_COMMANDS, summary: 'encryption of the repository' },
  {
    name: 'repo-cipher-pass', type: 'string', section: 'global', group: 'repo', required: true, secure: true, commands: REPO_COMMANDS,
    depend: { option: 'repo-cipher-type', values: ['aes-256-cbc'] }, deprecatedNames: ['repo-cipher-pass'], summary: 'passphrase of the encrypted repository',
  },
  { name: 'repo-hardlink', type: 'boolean', section: 'global', group: 'repo', default: false, commands: on('backup'), deprecatedNames: ['hardlink'], unsupported: 'hard-linked backups are not supported by pgkeep', summary: 'hard-link unchanged files' },
  { name: 'repo-bundle', type: 'boolean', section: 'global', group: 'repo', default: false, commands: on('backup'), unsupported: 'writing bundled backups is not supported by pgkeep yet', summary: 'bundle small files' },
  { name: 'repo-bundle-size', type: 'size', section: 'global', group: 'repo', default: 20971520, range: [1048576, 1125899906842624], commands: on('backup'), depend: { option: 'repo-bundle', values: [true] }, summary: 'target size of a bundle' },
  { name: 'repo-bundle-limit', type: 'size', section: 'global', group: 'repo', default: 2097152, range: [8192, 1125899906842624], commands: on('backup'), depend: { option: 'repo-bundle', values: [true] }, summary: 'largest file that goes into a bundle' },
  { name: 'repo-block', type: 'boolean', section: 'global', group: 'repo', default: false, commands: on('backup'), unsupported: BLOCK, summary: 'block incremental backup' },
  { name: 'repo-block-size-map', type: 'hash', section: 'global', group: 'repo', required: false, commands: on('backup'), unsupported: BLOCK, summary: 'block size by file size' },
  { name: 'repo-block-age-map', type: 'hash', section: 'global', group: 'repo', required: false, commands: on('backup'), unsupported: BLOCK, summary: 'block size by file age' },
  { name: 'repo-block-checksum-size-map', type: 'hash', section: 'global', group: 'repo', required: false, commands: on('backup'), unsupported: BLOCK, summary: 'block checksum size by block size' },
  { name: 'repo-block-size-super', type: 'size', section: 'global', group: 'repo', default: 262144, commands: on('backup'), unsupported: BLOCK, summary: 'super block size' },
  { name: 'repo-block-size-super-full', type: 'size', section: 'global', group: 'repo', default: 1048576, commands: on('backup'), unsupported: BLOCK, summary: 'super block size of full backups' },
  { name: 'repo-retention-archive', type: 'integer', section: 'global', group: 'repo', required: false, range: [1, 9999999], commands: RETENTION_COMMANDS, deprecatedNames: ['retention-archive'], summary: 'number of backups whose WAL is kept' },
  { name: 'repo-retention-archive-type', type: 'enum', section: 'global', group: 'repo', default: 'full', allow: ['full', 'diff', 'incr'], commands: RETENTION_COMMANDS, deprecatedNames: ['retention-archive-type'], summary: 'which backups repo-retention-archive counts' },
  { name: 'repo-retention-diff', type: 'integer', section: 'global', group: 'repo', required: false, range: [1, 9999999], commands: RETENTION_COMMANDS, deprecatedNames: ['retention-diff'], summary: 'number of differential backups to keep' },
  { name: 'repo-retention-full', type: 'integer', section: 'global', group: 'repo', required: false, range: [1, 9999999], commands: RETENTION_COMMANDS, deprecatedNames: ['retention-full'], summary: 'full backups to keep: a count, or days with repo-retention-full-type=time' },
  { name: 'repo-retention-full-type', type: 'enum', section: 'global', group: 'repo', default: 'count', allow: ['count', 'time'], commands: RETENTION_COMMANDS, summary: 'whether repo-retention-full counts backups or days' },
  { name: 'repo-retention-history', type: 'integer', section: 'global', group: 'repo', required: false, range: [0, 9999999], commands: RETENTION_COMMANDS, summary: 'days of backup history manifests to keep' },
  { name: 'repo-storage-verify-tls', type: 'boolean', section: 'global', group: 'repo', default: true, commands: REPO_COMMANDS, unsupported: OBJECT_STORE, summary: 'verify the object store\'s TLS certificate' },
  { name: 'repo-storage-ca-file', type: 'path', section: 'global', group: 'repo', required: false, commands: REPO_COMMANDS, unsupported: OBJECT_STORE, summary: 'object store CA file' },
  { name: 'repo-storage-ca-path', type: 'path', section: 'global', group: 'repo', required: false, commands: REPO_COMMANDS, unsupported: OBJECT_STORE, summary: 'object store CA directory' },
  { name: 'repo-storage-host', type: 'string', section: 'global', group: 'repo', required: false, commands: REPO_COMMANDS, unsupported: OBJECT_STORE, summary: 'object store host' },
  { name: 'repo-storage-port', type: 'integer', section: 'global', group: 'repo', default: 443, range: [1, 65535], commands: REPO_COMMANDS, unsupported: OBJECT_STORE, summary: 'object store port' },
  { name: 'repo-storage-upload-chunk-size', type: 'size', section: 'global', group: 'repo', required: false, commands: REPO_COMMANDS, unsupported: OBJECT_STORE, summary: 'object store upload chunk size' },
  { name: 'repo-storage-tag', type: 'hash', section: 'global', group: 'repo', required: false, commands: REPO_COMMANDS, unsupported: OBJECT_STORE, summary: 'object store tags' },
  s3('repo-s3-bucket', 'S3 bucket'),
  s3('repo-s3-endpoint', 'S3 endpoint'),
  s3('repo-s3-key', 'S3 access key', { secure: true }),
  s3('repo-s3-key-secret', 'S3 secret key', { secure: true }),
  s3('repo-s3-key-type', 'S3 key type'),
  s3('repo-s3-kms-key-id', 'S3 KMS key id'),
  s3('repo-s3-region', 'S3 region'),
  s3('repo-s3-role', 'S3 role'),
  s3('repo-s3-token', 'S3 session token', { secure: true }),
  s3('repo-s3-uri-style', 'S3 URI style'),
  s3('repo-azure-account', 'Azure account', { secure: true }),
  s3('repo-azure-container', 'Azure container'),
  s3('repo-azure-endpoint', 'Azure endpoint'),
  s3('repo-azure-key', 'Azure key', { secure: true }),
  s3('repo-azure-key-type', 'Azure key type'),
  s3('repo-azure-uri-style', 'Azure URI style'),
  s3('repo-gcs-bucket', 'GCS bucket'),
  s3('repo-gcs-endpoint', 'GCS endpoint'),
  s3('repo-gcs-key', 'GCS key', { secure: true }),
  s3('repo-gcs-key-type', 'GCS key type'),
  s3('repo-sftp-host', 'SFTP host'),
  s3('repo-sftp-host-key-hash-type', 'SFTP host key hash type'),
  s3('repo-sftp-host-port', 'SFTP port'),
  s3('repo-sftp-host-user', 'SFTP user'),
  s3('repo-sftp-private-key-file', 'SFTP private key file'),
  s3('repo-sftp-private-key-passphrase', 'SFTP private key passphrase', { secure: true }),
  s3('repo-sftp-public-key-file', 'SFTP public key file'),
];
