import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { osUser } from './os-user.js';
import { pgkeepBin, type TestStanza } from './stanza.js';

/** What a running backup writes into its lock file. */
export interface LockProgress {
  readonly execId: string;
  readonly pid: number;
  readonly pctCplt: number;
  readonly size: number;
  readonly sizeCplt: number;
}

/** A `pgkeep backup` started in the background as postgres, for tests that act while it runs. */
export class RunningBackup {
  readonly pid: number;
  /** Its exit code, once it has ended. */
  readonly exited: Promise<number | null>;
  stdout = '';
  stderr = '';
  private ended = false;

  constructor(
    private readonly stanza: TestStanza,
    args: readonly string[],
  ) {
    const child = spawn(pgkeepBin(), [`--config=${stanza.configPath}`, '--stanza=main', ...args, 'backup'], {
      uid: osUser().uid,
      gid: osUser().gid,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = child.pid!;
    child.stdout.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.ended = true;
        resolve(code);
      }),
    );
  }

  /** Waits (polling every 5 ms, at most 30 s) until `probe` answers; fails if the backup ends first. */
  async until<T>(what: string, probe: () => T | undefined): Promise<T> {
    for (let tries = 0; tries < 6000; tries++) {
      const value = probe();
      if (value !== undefined) return value;
      if (this.ended) break;
      await sleep(5);
    }
    throw new Error(`the backup ended or took too long before ${what}:\n${this.stdout}${this.stderr}`);
  }

  /** The lock file's progress, once part of the copy is done and not all of it (undefined before). */
  copying(): LockProgress | undefined {
    const lock = this.lock();
    return lock !== undefined && lock.sizeCplt > 0 && lock.sizeCplt < lock.size ? lock : undefined;
  }

  /** The backup lock file's content now; undefined while it does not exist or is being written. */
  lock(): LockProgress | undefined {
    try {
      return JSON.parse(readFileSync(join(this.stanza.lockPath, 'main-backup.lock'), 'utf8')) as LockProgress;
    } catch {
      return undefined;
    }
  }
}
