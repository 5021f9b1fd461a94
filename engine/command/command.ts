import type { Config } from '../config/config.js';
import type { CommandName } from '../config/command-table.js';

/** What a running command may use besides its configuration. */
export interface CommandContext {
  readonly config: Config;
  /** Writes command output (not log lines) to standard output. */
  readonly out: (text: string) => void;
  /** Cancels long-running work (the UI's cancel button, SIGTERM). */
  readonly signal: AbortSignal;
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
