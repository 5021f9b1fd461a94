import { spawn, type ChildProcess } from 'node:child_process';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { isPgkeepError, PgkeepError } from '../error/pgkeep-error.js';
import { findProgram } from '../exec/find-program.js';
import { Filter } from './filter.js';

/**
 * Decompression through an external program, for formats pgBackRest can write but Node 20 cannot
 * read (zstd is in Node's zlib only from 22.15; bzip2 never). The program runs as a child
 * process, streaming: stdin gets the compressed bytes, stdout gives the plain ones, with
 * backpressure both ways, so memory stays flat whatever the file size.
 */
export interface ExternalDecompressor {
  /** The program and its arguments to decompress stdin to stdout. */
  readonly program: string;
  readonly args: readonly string[];
  /** The format's name in messages, and the Debian package that provides the program. */
  readonly format: string;
  readonly aptPackage: string;
}

export const zstdDecompressor: ExternalDecompressor = {
  program: 'zstd',
  args: ['-d', '-c', '-q'],
  format: 'zstd',
  aptPackage: 'zstd',
};
export const bzip2Decompressor: ExternalDecompressor = {
  program: 'bzip2',
  args: ['-d', '-c', '-q'],
  format: 'bzip2',
  aptPackage: 'bzip2',
};

/** A decompressor started as a child process: how it ends, and what it said when it failed. */
interface RunningProgram {
  readonly child: ChildProcess;
  /** 'exited with code 1', 'was killed by SIGKILL', 'could not run: ...'; '' for success. */
  readonly exited: Promise<string>;
  /** Once it has ended: the program, how it ended, and its stderr on one line. */
  failure(): Promise<{ readonly what: string; readonly said: string }>;
}

/** Starts the decompressor, stdin a pipe or the given file descriptor, stdout a pipe or the given file descriptor. */
function startProgram(
  decompressor: ExternalDecompressor,
  name: string | undefined,
  stdout: 'pipe' | number,
  stdin: 'pipe' | number = 'pipe',
): RunningProgram {
  const program = findProgram(decompressor.program);
  if (program === undefined) {
    throw new PgkeepError(
      'FeatureNotSupported',
      `unable to decompress${where(name)}: ${decompressor.format} data needs the '${decompressor.program}' program, which is not installed`,
      { hint: `install it (Debian/Ubuntu: apt-get install ${decompressor.aptPackage}) and retry` },
    );
  }
  const child = spawn(program, decompressor.args, { stdio: [stdin, stdout, 'pipe'] });
  const exited = new Promise<string>((resolve) => {
    child.on('error', (error) => resolve(`could not run: ${error.message}`));
    child.on('exit', (code, signal) =>
      resolve(code === 0 ? '' : code === null ? `was killed by ${signal}` : `exited with code ${code}`),
    );
  });
  const stderr: Buffer[] = [];
  child.stderr!.on('data', (data: Buffer) => stderr.push(data));
  const stderrEnded = new Promise((resolve) => child.stderr!.on('close', resolve));
  // A program that exits early (corrupt input) makes stdin fail with EPIPE; its exit status says why.
  child.stdin?.on('error', () => {});
  return {
    child,
    exited,
    failure: async () => {
      const how = await exited;
      await stderrEnded;
      const said = Buffer.concat(stderr).toString().trim().replace(/\s+/g, ' ');
      return { what: [`${decompressor.program} ${how}`, ...(said === '' ? [] : [said])].join(': '), said };
    },
  };
}

/** The error of a program that failed on its input. */
function formatError(decompressor: ExternalDecompressor, name: string | undefined, what: string): PgkeepError {
  return new PgkeepError('Format', `unable to decompress ${decompressor.format} data${where(name)}: ${what}`, {
    hint: 'the file is corrupt or truncated: restore it from another copy or backup',
  });
}

function where(name: string | undefined): string {
  return name === undefined ? '' : ` '${name}'`;
}

export class ExternalDecompressFilter extends Filter {
  private readonly program: RunningProgram;
  private readonly stdoutEnded: Promise<void>;

  /**
   * @param name the file being read, for error messages
   * @throws FeatureNotSupported when the program is not installed
   */
  constructor(
    private readonly decompressor: ExternalDecompressor,
    private readonly name?: string,
  ) {
    super();
    this.program = startProgram(decompressor, name, 'pipe');
    const stdout = this.program.child.stdout!;
    this.stdoutEnded = new Promise((resolve) => stdout.on('end', resolve));
    stdout.on('data', (data: Buffer) => {
      if (!this.push(data)) stdout.pause();
    });
  }

  override _read(size: number): void {
    this.program.child.stdout!.resume();
    super._read(size);
  }

  protected async process(chunk: Buffer): Promise<void> {
    const stdin = this.program.child.stdin!;
    const written = await new Promise<boolean>((resolve) => stdin.write(chunk, (error) => resolve(error == null)));
    if (!written) await this.failed();
  }

  protected override async finish(): Promise<void> {
    this.program.child.stdin!.end();
    if ((await this.program.exited) !== '') await this.failed();
    await this.stdoutEnded;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.program.child.exitCode === null) this.program.child.kill();
    callback(error);
  }

  /** Waits for the program to end and throws what it said. */
  private async failed(): Promise<never> {
    throw formatError(this.decompressor, this.name, (await this.program.failure()).what);
  }
}

/**
 * Decompresses `source` through the program straight into the open file `fd` (its stdout): the
 * plain bytes never pass through this process, which saves a pipe and its copies. For a restore,
 * which then reads the file back to check its checksum: measured on a 1 GiB pgbench segment,
 * 1.2 s and 1.3 s of CPU instead of 1.7 s and 2.2 s through a pipe. A source that is an open
 * file (read from its start) becomes the program's stdin: the compressed bytes do not pass
 * through this process either.
 *
 * @param target the path of `fd`, and name the file being read, for error messages
 * @throws FeatureNotSupported when the program is not installed; FileWrite when it could not
 *   write (a full disk); Format when it fails otherwise
 */
export async function decompressToFile(
  decompressor: ExternalDecompressor,
  source: Readable | FileHandle,
  fd: number,
  target: string,
  name?: string,
): Promise<void> {
  const piped = source instanceof Readable ? source : undefined;
  let program: RunningProgram;
  try {
    program = startProgram(decompressor, name, fd, source instanceof Readable ? 'pipe' : source.fd);
  } catch (error) {
    piped?.destroy();
    throw error;
  }
  // A program that exits early makes stdin fail (EPIPE): its exit status says why. A source that
  // fails is its own error, reported as it is.
  const sourceError =
    piped === undefined
      ? undefined
      : await pipeline(piped, program.child.stdin!).then(
          () => undefined,
          (error: unknown) => (isPgkeepError(error) ? error : undefined),
        );
  if (sourceError !== undefined) {
    if (program.child.exitCode === null) program.child.kill();
    await program.exited;
    throw sourceError;
  }
  if ((await program.exited) === '') return;
  const { what, said } = await program.failure();
  // lz4, zstd and bzip2 all say "write error" when their output fails: the target's fault, not the input's.
  if (/write error/i.test(said))
    throw new PgkeepError('FileWrite', `unable to write '${target}': ${what}`, { hint: 'check free space and permissions' });
  throw formatError(decompressor, name, what);
}
