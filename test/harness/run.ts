import { spawn, type SpawnOptions } from 'node:child_process';

import { osUser, type OsUser } from './os-user.js';

export interface RunResult {
  readonly code: number;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  /** Standard output as bytes (binary output: repo-get). */
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

export interface RunOptions {
  /** Run as this OS user (uid/gid switched; needs root). */
  readonly user?: OsUser | string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string | Buffer;
  /** Reject when the exit code is not 0 (default true). */
  readonly check?: boolean;
  readonly timeoutMs?: number;
}

/** Runs a program to completion and captures its output; a failure message shows both streams. */
export function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const user = typeof options.user === 'string' ? osUser(options.user) : options.user;
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: {
      ...(options.env ?? process.env),
      ...(user === undefined ? {} : { HOME: user.home, USER: user.name, LOGNAME: user.name }),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, spawnOptions);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (error) => {
      if (timer !== undefined) clearTimeout(timer);
      reject(new Error(`unable to run ${program}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const stdoutBytes = Buffer.concat(stdout);
      const result = {
        code: code ?? -1,
        signal,
        stdout: stdoutBytes.toString(),
        stdoutBytes,
        stderr: Buffer.concat(stderr).toString(),
      };
      if ((options.check ?? true) && result.code !== 0) {
        reject(
          new Error(
            `${program} ${args.join(' ')} exited with ${signal ?? result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
          ),
        );
      } else resolve(result);
    });
    child.stdin!.end(options.input);
  });
}
