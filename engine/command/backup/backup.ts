import type { CommandContext } from '../command.js';
import { formatBytes } from '../info/info-text.js';
import { runBackup, type BackupProgress } from './run-backup.js';

/**
 * `pgkeep backup`. Progress goes to a bar on the terminal (standard error, when it is one), or
 * with --output=json to standard output as one JSON event per line for programs:
 * `{"event":"progress",...}` while copying, then `{"event":"result",...}`.
 */
export async function run({ config, out, signal, onProgress, onResult }: CommandContext): Promise<number> {
  const json = config.string('output') === 'json';
  const bar = !json && onProgress === undefined && process.stderr.isTTY === true ? new ProgressBar() : undefined;
  const started = Date.now();
  const result = await runBackup(config, {
    signal,
    onProgress: (progress) => {
      if (json) out(`${JSON.stringify({ event: 'progress', ...progressJson(progress) })}\n`);
      bar?.draw(progress);
      onProgress?.(progressJson(progress));
    },
  });
  bar?.end();
  if (json) out(`${JSON.stringify({ event: 'result', ...result })}\n`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  onResult?.({
    summary: `${result.type} backup ${result.label}: ${formatBytes(result.bytesCopied)} copied in ${seconds} s (${result.filesCopied} files copied, ${result.filesReferenced} unchanged)`,
    backupLabel: result.label,
  });
  return 0;
}

function progressJson(progress: BackupProgress) {
  return {
    bytesDone: progress.doneBytes,
    bytesTotal: progress.totalBytes,
    filesDone: progress.filesDone,
    filesTotal: progress.filesTotal,
    percent: Math.round(progress.percent * 100) / 100,
    rate: Math.round(progress.bytesPerSecond),
    eta: progress.etaSeconds === undefined ? null : Math.round(progress.etaSeconds),
  };
}

/** A one-line bar with rate and time left, redrawn in place on the terminal. */
class ProgressBar {
  private drawn = false;

  draw(progress: BackupProgress): void {
    const width = 30;
    const filled = Math.round((progress.percent / 100) * width);
    const eta = progress.etaSeconds === undefined ? '--:--' : clock(progress.etaSeconds);
    const line =
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progress.percent.toFixed(1).padStart(5)}% ` +
      `${formatBytes(progress.doneBytes)}/${formatBytes(progress.totalBytes)} ${formatBytes(progress.bytesPerSecond)}/s ETA ${eta}`;
    process.stderr.write(`\r${line}\u001b[K`);
    this.drawn = true;
  }

  end(): void {
    if (this.drawn) process.stderr.write('\n');
  }
}

function clock(seconds: number): string {
  const whole = Math.round(seconds);
  const two = (value: number) => String(value).padStart(2, '0');
  return `${two(Math.floor(whole / 3600))}:${two(Math.floor((whole % 3600) / 60))}:${two(whole % 60)}`;
}
