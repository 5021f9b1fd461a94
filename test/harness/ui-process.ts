import { spawn, type ChildProcess } from 'node:child_process';

import { osUser } from './os-user.js';
import { pgkeepBin } from './stanza.js';
import { tempDir } from './temp-dir.js';

export interface UiProcess {
  /** The printed URL with its one-time token. */
  readonly url: string;
  readonly origin: string;
  readonly process: ChildProcess;
  /** Where it keeps its job history (PGKEEP_STATE_DIR). */
  readonly stateDir: string;
  stop(): Promise<void>;
}

/**
 * Starts `pgkeep ui` as the postgres user (the user that owns the database and runs backups) with
 * the given configuration, and waits for the URL it prints. A state directory of an earlier one
 * gives it that one's job history.
 */
export async function startUi(configPath: string, stateDir = tempDir('ui-state')): Promise<UiProcess> {
  const child = spawn(pgkeepBin(), [`--config=${configPath}`, 'ui'], {
    uid: osUser().uid,
    gid: osUser().gid,
    env: { PATH: process.env.PATH, HOME: osUser().home, PGKEEP_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pgkeep ui printed no URL:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /pgkeep UI: (http:\/\/\S+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`pgkeep ui exited with ${code}:\n${output}`)));
  });
  return {
    url,
    origin: new URL(url).origin,
    process: child,
    stateDir,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
