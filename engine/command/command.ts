import type { Config } from '../config/config.js';
import type { CommandName } from '../config/command-table.js';

/** What a running command may use besides its configuration. */
export interface CommandContext {
  readonly config: Config;
  /** Writes command output (not log lines) to standard output. */
  readonly out: (text: string) => void;
  /** Writes binary command output (repo-get) to standard output; resolves once it is written. */
  readonly write?: (data: Uint8Array) => Promise<void>;
  /** Cancels long-running work (the UI's cancel button, SIGTERM). */
  readonly signal: AbortSignal;
  /** Progress of long commands (backup), for a UI; the CLI shows its own bar instead. */
  readonly onProgress?: (progress: CommandProgress) => void;
  /** The command's outcome as data, for a UI: a backup reports its label and sizes. */
  readonly onResult?: (result: CommandResult) => void;
}

export interface CommandProgress {
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly filesDone: number;
  readonly filesTotal: number;
  /** Bytes per second over the last seconds. */
  readonly rate: number;
  /** Seconds left at that rate, when it can be estimated. */
  readonly eta: number | null;
}

export interface CommandResult {
  /** One line for a DBA. */
  readonly summary: string;
  readonly backupLabel?: string;
}

export interface CommandModule {
  /** Runs the command; resolves to the process exit code (0 on success). */
  run(context: CommandContext): Promise<number>;
}

export interface CommandEntry {
  readonly name: CommandName;
  /** Loaded on demand so `archive-push` does not pay for loading `restore`. */
  readonly load: () => Promise<CommandModule>;
  /** Whether the command reads the configuration files (help and version do not). */
  readonly needsConfig: boolean;
  /** Refuses to run as root unless --allow-root (files it writes must stay the postgres user's). */
  readonly refuseRoot: boolean;
}
