import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { run } from '../../harness/run.js';
import { RunningBackup } from '../../harness/running-backup.js';
import { pgkeepBin, TestStanza } from '../../harness/stanza.js';

interface ProgressEvent {
  event: 'progress';
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  percent: number;
  rate: number;
  eta: number | null;
}

/**
 * A running backup's progress, seen from outside: in the lock file (which `info` of another
 * process reads), as JSON events for programs, and as a bar on a terminal.
 */
describe('backup progress', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(10, { global: { 'process-max': 1 } });
  });
  afterAll(async () => stanza?.destroy());

  it('info from another process shows a running backup with its percentage; JSON events count up to the total', async () => {
    const backup = new RunningBackup(stanza, ['--output=json', '--type=full']);
    // Freeze the backup once its lock file reports part of the copy done: info then reads a fixed state.
    const lockFile = join(stanza.lockPath, 'main-backup.lock');
    const lock = await backup.until('the lock file reported progress', () => backup.copying());
    expect(lock.pid).toBe(backup.pid);
    process.kill(backup.pid, 'SIGSTOP');
    try {
      // The lock may have been rewritten between the read and the stop: read what info reads.
      const frozen = backup.lock()!;
      expect(Math.abs(frozen.pctCplt - Math.floor((frozen.sizeCplt / frozen.size) * 10000))).toBeLessThanOrEqual(1);
      const text = (await stanza.pgkeep(['info'])).stdout;
      const percent = `${Math.floor(frozen.pctCplt / 100)}.${String(frozen.pctCplt % 100).padStart(2, '0')}`;
      // The stanza's first backup: there is none yet, and one is running (pgbackrest 2.45's wording).
      expect(text).toContain(`    status: error (no valid backups, backup/expire running - ${percent}% complete)\n`);
      // As pgbackrest 2.45: JSON says the lock is held, without the percentage.
      const [json] = JSON.parse((await stanza.pgkeep(['--output=json', 'info'])).stdout) as [
        { status: { lock: { backup: Record<string, unknown> } } },
      ];
      expect(json.status.lock.backup).toEqual({ held: true });
      // pgbackrest sees the lock too (pgkeep flock()s its lock files): the same status in its info,
      // and its expire refuses to run beside the backup.
      // (only the status: the archive's range may grow meanwhile, PostgreSQL archives on)
      const status = (output: string) => output.split('\n').find((line) => line.startsWith('    status: '));
      expect(status((await stanza.pgbackrest(['info'])).stdout)).toBe(status(text));
      const expire = await stanza.pgbackrest(['expire'], { check: false });
      expect(expire.code).toBe(50);
      expect(expire.stderr).toContain(
        `ERROR: [050]: unable to acquire lock on file '${lockFile}': Resource temporarily unavailable\n       HINT: is another pgBackRest process running?`,
      );
    } finally {
      process.kill(backup.pid, 'SIGCONT');
      // Whatever failed above, the backup ends before the next test starts one.
      await backup.exited;
    }
    expect(await backup.exited).toBe(0);

    const lines = backup.stdout.trim().split('\n');
    const events = lines.slice(0, -1).map((line) => JSON.parse(line) as ProgressEvent);
    const result = JSON.parse(lines.at(-1)!) as { event: string; size: number; bytesCopied: number };
    expect(result.event).toBe('result');
    expect(events.length).toBeGreaterThan(1);
    for (const event of events) {
      expect(event.event).toBe('progress');
      expect(event.bytesTotal).toBe(events[0]!.bytesTotal);
      expect(event.filesTotal).toBe(events[0]!.filesTotal);
    }
    for (let index = 1; index < events.length; index++) {
      expect(events[index]!.bytesDone).toBeGreaterThanOrEqual(events[index - 1]!.bytesDone);
      expect(events[index]!.filesDone).toBeGreaterThanOrEqual(events[index - 1]!.filesDone);
    }
    const last = events.at(-1)!;
    expect(last).toMatchObject({ bytesDone: last.bytesTotal, filesDone: last.filesTotal, percent: 100 });
    // (the total is what the manifest listed; the result counts what was read, and an online
    // cluster's files change during the copy)
    expect(Math.abs(last.bytesTotal - result.size)).toBeLessThan(last.bytesTotal / 100);
    // The lock is gone: info shows no running backup.
    expect((await stanza.pgkeep(['info'])).stdout).toContain('    status: ok\n');
  });

  it('on a terminal a bar is drawn on standard error, with rate and time left, and ends with a new line', async () => {
    // script(1) gives the backup a pseudo-terminal; its output is the terminal's.
    const command = [pgkeepBin(), `--config=${stanza.configPath}`, '--stanza=main', '--type=full', 'backup'].join(' ');
    const { stdout } = await run('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
      user: 'postgres',
      cwd: stanza.root,
      env: { PATH: process.env.PATH, TERM: 'xterm' },
    });
    // The bar ends each draw with ESC [K (erase to the end of the line).
    const eraseLine = `${String.fromCharCode(27)}\\[K`;
    const draws = stdout.split('\r').filter((part) => part.startsWith('['));
    expect(draws.length).toBeGreaterThan(0);
    for (const draw of draws) {
      expect(draw).toMatch(
        new RegExp(`^\\[[#.]{30}\\] +\\d+\\.\\d% \\S+/\\S+ \\S+/s ETA (\\d\\d:\\d\\d:\\d\\d|--:--)${eraseLine}`),
      );
    }
    expect(draws.at(-1)).toMatch(/^\[#{30}\] 100\.0% /);
    // the terminal turns the final new line into \r\n
    expect(stdout).toMatch(new RegExp(`\\[#{30}\\] 100\\.0% [^\\r]*${eraseLine}\\r\\n`));
  });
});
