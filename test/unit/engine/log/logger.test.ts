import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { Logger, type LogRecord, type LogSettings } from '../../../../engine/log/logger.js';

const QUIET: LogSettings = { console: 'off', stderr: 'off', file: 'off', timestamp: false, processId: 0 };

/** A logger writing into arrays instead of the process's standard output and error. */
function capture(settings: Partial<LogSettings> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const logger = new Logger();
  logger.configure({ ...QUIET, ...settings }, { stdout: (text) => out.push(text), stderr: (text) => err.push(text) });
  return { logger, out, err };
}

const scratch: string[] = [];
afterEach(() => {
  for (const path of scratch.splice(0)) rmSync(path, { recursive: true, force: true });
});

function scratchDir(): string {
  const path = mkdtempSync(join(tmpdir(), 'pgkeep-logger-test-'));
  scratch.push(path);
  return path;
}

describe('Logger', () => {
  it("writes pgBackRest's console format: process id, padded level, error codes, continuation lines aligned", () => {
    const { logger, out, err } = capture({ console: 'detail', processId: 2 });
    logger.info('backup start');
    logger.detail('first line\nsecond line');
    logger.debug('not at this level');
    logger.error('unable to open', 41);
    expect(out).toEqual([
      'P02   INFO: backup start\n',
      'P02 DETAIL: first line\n            second line\n',
      'P02  ERROR: [041]: unable to open\n',
    ]);
    expect(err).toEqual([]);
  });

  it('sends levels within log-level-stderr to standard error, in the short form, and not also to standard output', () => {
    const { logger, out, err } = capture({ console: 'info', stderr: 'warn' });
    logger.warn('careful\nHINT: do this');
    logger.error('failed', 31);
    logger.info('fine');
    expect(err).toEqual(['WARN: careful\n      HINT: do this\n', 'ERROR: [031]: failed\n']);
    expect(out).toEqual(['P00   INFO: fine\n']);
  });

  it('stamps lines with the local date and time to the millisecond when log-timestamp is on', () => {
    const { logger, out } = capture({ console: 'info', timestamp: true });
    logger.info('stamped');
    expect(out[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} P00 {3}INFO: stamped\n$/);
  });

  it('redacts every secret from every destination: standard output, standard error, the log file, listeners', () => {
    const path = join(scratchDir(), 'log', 'main-backup.log');
    const { logger, out, err } = capture({ console: 'info', stderr: 'error', file: 'info', filePath: path });
    const records: LogRecord[] = [];
    logger.subscribe((record) => records.push(record));
    logger.addSecrets(['hunter2', '', 's3cr3t', 'hunter2']);
    logger.info('connecting with password hunter2 and key s3cr3t (hunter2 again)');
    logger.error('refused hunter2', 31);
    logger.close();

    const redacted = 'connecting with password <redacted> and key <redacted> (<redacted> again)';
    expect(out).toEqual([`P00   INFO: ${redacted}\n`]);
    expect(err).toEqual(['ERROR: [031]: refused <redacted>\n']);
    expect(records.map((record) => record.message)).toEqual([redacted, 'refused <redacted>']);
    const file = readFileSync(path, 'utf8');
    expect(file).toBe(
      `-------------------PROCESS START-------------------\nP00   INFO: ${redacted}\nP00  ERROR: [031]: refused <redacted>\n`,
    );
    expect(file).not.toMatch(/hunter2|s3cr3t/);
  });

  it('ignores an empty secret, which would otherwise redact between every character', () => {
    const { logger, out } = capture({ console: 'info' });
    logger.addSecrets(['']);
    logger.info('plain');
    expect(out).toEqual(['P00   INFO: plain\n']);
  });

  it('appends to an existing log file, after a process start marker', () => {
    const path = join(scratchDir(), 'main.log');
    writeFileSync(path, 'P00   INFO: an earlier run\n');
    const { logger } = capture({ file: 'detail', filePath: path });
    logger.detail('this run');
    logger.debug('below the file level');
    logger.close();
    expect(readFileSync(path, 'utf8')).toBe(
      'P00   INFO: an earlier run\n-------------------PROCESS START-------------------\nP00 DETAIL: this run\n',
    );
  });

  it('warns with a hint, and goes on without a file, when the log file cannot be opened', () => {
    const blocker = join(scratchDir(), 'not-a-directory');
    writeFileSync(blocker, '');
    const { logger, out, err } = capture({ console: 'info', stderr: 'warn', file: 'info', filePath: join(blocker, 'main.log') });
    logger.info('still logged');
    expect(err).toHaveLength(1);
    expect(err[0]).toContain(`WARN: unable to open log file '${join(blocker, 'main.log')}'`);
    expect(err[0]).toContain('HINT: set log-path to a directory this user can write, or log-level-file=off');
    expect(out).toEqual(['P00   INFO: still logged\n']);
    expect(logger.enabled('detail')).toBe(false);
  });

  it('says a level is enabled when any destination takes it, or while anyone listens', () => {
    const { logger } = capture({ console: 'info', stderr: 'warn' });
    expect(logger.enabled('info')).toBe(true);
    expect(logger.enabled('detail')).toBe(false);
    const stop = logger.subscribe(() => {});
    expect(logger.enabled('debug')).toBe(true);
    stop();
    expect(logger.enabled('debug')).toBe(false);
  });

  it('gives listeners every level and the scope of the work that logged, across await', async () => {
    const { logger } = capture();
    const records: LogRecord[] = [];
    logger.subscribe((record) => records.push(record));
    await logger.scoped('job-7', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.debug('inside');
    });
    logger.warn('outside');
    expect(records.map(({ level, message, scope }) => ({ level, message, scope }))).toEqual([
      { level: 'debug', message: 'inside', scope: 'job-7' },
      { level: 'warn', message: 'outside', scope: undefined },
    ]);
  });
});
