/**
 * The one table of errors. Every error pgkeep raises has a name here, a stable numeric code and a
 * one-line description. Codes reuse pgBackRest's numbers where the meaning matches (so scripts
 * written against pgBackRest's exit codes keep working); codes of pgkeep's own start at 130.
 *
 * The process exit code of a failed command is the error's code (all codes are below 256).
 * Exit code 1 is reserved for archive-get's "segment not in the archive", which PostgreSQL reads as
 * "end of recovery".
 */
export const errorTable = {
  // pgBackRest's codes
  Assert: { code: 25, description: 'an internal invariant failed (a bug)' },
  Checksum: { code: 26, description: 'a checksum does not match' },
  Config: { code: 27, description: 'the configuration is invalid' },
  FileInvalid: { code: 28, description: 'a file has invalid content' },
  Format: { code: 29, description: 'a file or value is not in the expected format' },
  CommandRequired: { code: 30, description: 'no command was given' },
  OptionInvalid: { code: 31, description: 'an option is unknown or not allowed where it was given' },
  OptionInvalidValue: { code: 32, description: 'an option has a value that is not valid' },
  OptionRequired: { code: 37, description: 'a required option is not set' },
  PgRunning: { code: 38, description: 'PostgreSQL is running where it must not be' },
  Protocol: { code: 39, description: 'the remote protocol failed' },
  PathNotEmpty: { code: 40, description: 'a directory that must be empty is not' },
  FileOpen: { code: 41, description: 'a file could not be opened' },
  FileRead: { code: 42, description: 'a file could not be read' },
  ParamRequired: { code: 43, description: 'a command parameter is missing' },
  ArchiveMismatch: { code: 44, description: 'WAL does not belong to the stanza' },
  ArchiveDuplicate: { code: 45, description: 'a WAL file is already archived with other content' },
  VersionNotSupported: { code: 46, description: 'the PostgreSQL version is not supported' },
  PathCreate: { code: 47, description: 'a directory could not be created' },
  CommandInvalid: { code: 48, description: 'the command is unknown' },
  HostConnect: { code: 49, description: 'a host could not be reached' },
  LockAcquire: { code: 50, description: 'a lock is held by another process' },
  BackupMismatch: { code: 51, description: 'the repository does not match the database' },
  FileSync: { code: 52, description: 'a file could not be synced to disk' },
  PathOpen: { code: 53, description: 'a directory could not be opened' },
  PathSync: { code: 54, description: 'a directory could not be synced to disk' },
  FileMissing: { code: 55, description: 'a file is missing' },
  DbConnect: { code: 56, description: 'the database could not be reached' },
  DbQuery: { code: 57, description: 'a database query failed' },
  DbMismatch: { code: 58, description: 'the database does not match the configuration' },
  FileRemove: { code: 60, description: 'a file could not be removed' },
  PathRemove: { code: 61, description: 'a directory could not be removed' },
  Stop: { code: 62, description: 'the stanza is stopped' },
  Term: { code: 63, description: 'the process was terminated' },
  FileWrite: { code: 64, description: 'a file could not be written' },
  FeatureNotSupported: { code: 67, description: 'a feature is not supported by pgkeep' },
  ArchiveCommandInvalid: { code: 68, description: 'archive_command is not set up for pgkeep' },
  LinkExpected: { code: 69, description: 'a symbolic link was expected' },
  LinkDestination: { code: 70, description: 'a link destination is not valid' },
  HostInvalid: { code: 72, description: 'the command cannot run on this host' },
  PathMissing: { code: 73, description: 'a directory is missing' },
  FileMove: { code: 74, description: 'a file could not be renamed' },
  BackupSetInvalid: { code: 75, description: 'the backup set is not valid' },
  TablespaceMap: { code: 76, description: 'a tablespace map is not valid' },
  LinkMap: { code: 78, description: 'a link map is not valid' },
  FileClose: { code: 79, description: 'a file could not be closed' },
  DbMissing: { code: 80, description: 'a database is missing' },
  DbInvalid: { code: 81, description: 'the database is not valid for this operation' },
  ArchiveTimeout: { code: 82, description: 'WAL did not reach the archive in time' },
  FileMode: { code: 83, description: 'a file mode is not valid' },
  ArchiveDisabled: { code: 87, description: 'archiving is disabled' },
  FileOwner: { code: 88, description: 'a file owner could not be set' },
  UserMissing: { code: 89, description: 'an OS user or group is missing' },
  FileExists: { code: 93, description: 'a file already exists' },
  Memory: { code: 94, description: 'out of memory' },
  Crypto: { code: 95, description: 'encryption or decryption failed' },
  ParamInvalid: { code: 96, description: 'a command parameter is not valid' },
  PathClose: { code: 97, description: 'a directory could not be closed' },
  FileInfo: { code: 98, description: 'file information could not be read' },
  JsonFormat: { code: 99, description: 'JSON is not valid' },
  Kernel: { code: 100, description: 'a system call failed' },
  Service: { code: 101, description: 'a service call failed' },
  Execute: { code: 102, description: 'a program could not be run' },
  RepoInvalid: { code: 103, description: 'the repository is not valid' },
  Command: { code: 104, description: 'a command failed' },
  Access: { code: 105, description: 'permission denied' },
  Clock: { code: 106, description: 'the clock is not consistent' },
  Runtime: { code: 122, description: 'a runtime error' },
  Unhandled: { code: 124, description: 'an unexpected error (a bug)' },
  Unknown: { code: 125, description: 'an unknown error' },

  // pgkeep's own codes
  RecoveryTargetUnreachable: { code: 131, description: 'a recovery target cannot be reached' },
  PageChecksum: { code: 132, description: 'a page failed its checksum' },
  RootRefused: { code: 133, description: 'the command refuses to run as root' },
  ArchiveNotFound: { code: 134, description: 'a WAL file is not in the archive' },
  Cancelled: { code: 135, description: 'the job was cancelled' },
  HostKey: { code: 136, description: 'an SSH host key is unknown or has changed' },
  PathUnsafe: { code: 137, description: 'a path would escape its target' },
  SpaceInsufficient: { code: 138, description: 'not enough free space' },
  /** Above 125 on purpose: PostgreSQL stops recovery when restore_command exits with more than 125. */
  ArchiveCorrupt: { code: 139, description: 'an archived WAL file is damaged' },
  // job pool (engine/exec): 160-164
  WorkerExit: { code: 160, description: 'a worker process ended unexpectedly' },
  // verify (engine/command/verify): 185-189
  VerifyInvalid: { code: 185, description: 'the repository failed verification' },
} as const satisfies Record<string, { code: number; description: string }>;

export type ErrorName = keyof typeof errorTable;

/** The exit code for PostgreSQL's restore_command when a WAL file is simply not there. */
export const EXIT_NOT_FOUND = 1;
