import { SvelteMap } from 'svelte/reactivity';

import type { Api, BackupType, ErrorInfo, Job, Result } from '../../../../engine/service/api.js';
import { errorOf } from '../backend/backend.js';
import { mergeLog } from './job-log.js';

/**
 * Jobs by id, kept current by `job` events (full snapshots). On start it asks for the jobs the
 * engine has, so a page reloaded in the middle of a backup finds the running job again and keeps
 * showing its progress.
 */
export class JobsService {
  readonly #api: Api;
  readonly #jobs = new SvelteMap<string, Job>();
  /** The first listJobs has answered. */
  loaded = $state(false);
  error = $state.raw<ErrorInfo | null>(null);

  /** Newest first. */
  readonly all: readonly Job[] = $derived([...this.#jobs.values()].sort((a, b) => b.startedAt - a.startedAt));
  readonly running: readonly Job[] = $derived(this.all.filter((job) => job.state === 'running'));

  constructor(api: Api) {
    this.#api = api;
  }

  start(): () => void {
    const unsubscribe = this.#api.subscribe((event) => {
      if (event.type === 'job') this.#apply(event.job);
    });
    void this.load();
    return unsubscribe;
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  /** The job of this stanza that runs now (any kind: they all hold the stanza's lock). */
  runningFor(stanza: string): Job | undefined {
    return this.running.find((job) => job.request.stanza === stanza);
  }

  /** The most recent job of this stanza, running or not. */
  latestFor(stanza: string): Job | undefined {
    return this.all.find((job) => job.request.stanza === stanza);
  }

  /** Loads the engine's jobs; running ones are fetched whole, for their full log. */
  async load(): Promise<void> {
    const result = await this.#api.call('listJobs', {});
    this.loaded = true;
    if (!result.ok) {
      this.error = errorOf(result);
      return;
    }
    this.error = null;
    for (const job of result.value) this.#apply(job);
    await Promise.all(result.value.filter((job) => job.state === 'running').map((job) => this.attach(job.id)));
  }

  /** Fetches one job (a stanza said it runs a job this service has not seen). */
  async attach(id: string): Promise<void> {
    const result = await this.#api.call('getJob', { id });
    if (result.ok) this.#apply(result.value);
  }

  async startBackup(stanza: string, type: BackupType): Promise<Result<Job>> {
    return this.#applyResult(await this.#api.call('startJob', { kind: 'backup', stanza, type }));
  }

  async cancel(id: string): Promise<Result<Job>> {
    return this.#applyResult(await this.#api.call('cancelJob', { id }));
  }

  #applyResult(result: Result<Job>): Result<Job> {
    if (result.ok) this.#apply(result.value);
    return result;
  }

  /**
   * Snapshots can arrive out of order (a call's answer after an event sent later), so an older
   * one never replaces a newer: a running snapshot does not undo an ended job, nor move progress
   * back. Log lines are merged, since each snapshot carries only the last few.
   */
  #apply(incoming: Job): void {
    const known = this.#jobs.get(incoming.id);
    if (known === undefined) {
      this.#jobs.set(incoming.id, { ...incoming, log: mergeLog([], incoming.log) });
      return;
    }
    const log = mergeLog(known.log, incoming.log);
    if (incoming.state === 'running' && (known.state !== 'running' || isBehind(incoming, known))) {
      if (log.length !== known.log.length) this.#jobs.set(known.id, { ...known, log });
      return;
    }
    this.#jobs.set(incoming.id, { ...incoming, log });
  }
}

function isBehind(incoming: Job, known: Job): boolean {
  if (known.progress === null) return false;
  if (incoming.progress === null) return true;
  return incoming.progress.bytesDone < known.progress.bytesDone || incoming.progress.filesDone < known.progress.filesDone;
}
