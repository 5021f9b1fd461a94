import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { log } from '../log/logger.js';
import { jobSchema, type Job } from './api.js';

/** How many finished jobs the history keeps. */
const HISTORY_MAX = 200;

/**
 * The job history on disk (a JSON file in the app's state directory), so that it survives a
 * restart of the app. A job that was running when the app stopped is recorded as failed: its
 * process is gone, and the repository's own state (an unlisted backup, a checkpoint) tells the
 * next backup what to do.
 */
export class JobStore {
  constructor(private readonly path: string) {}

  async load(): Promise<Job[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return [];
    }
    try {
      const jobs = jobSchema.array().parse(JSON.parse(text));
      return jobs.map((job) =>
        job.state === 'running'
          ? {
              ...job,
              state: 'failed',
              endedAt: job.endedAt ?? job.startedAt,
              error: {
                code: 63,
                name: 'Term',
                message: 'the app stopped while this job was running',
                hint: 'run the job again; an interrupted backup is resumed',
              },
            }
          : job,
      );
    } catch (error) {
      log.warn(`job history '${this.path}' is not readable and starts empty: ${(error as Error).message}`);
      return [];
    }
  }

  /** Writes the history atomically (temporary file, rename). */
  async save(jobs: readonly Job[]): Promise<void> {
    const kept = [...jobs].sort((a, b) => a.startedAt - b.startedAt).slice(-HISTORY_MAX);
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(kept), { mode: 0o600 });
    await rename(temporary, this.path);
  }
}
