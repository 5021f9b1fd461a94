import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { parseCommandLine, type Setting } from '../config/command-line.js';
import type { CommandName } from '../config/command-table.js';
import type { Config } from '../config/config.js';
import { loadConfigFiles, stanzaNames } from '../config/config-files.js';
import { resolveConfig } from '../config/resolve.js';
import { PgkeepError, toPgkeepError } from '../error/pgkeep-error.js';
import { log, type LogRecord } from '../log/logger.js';
import type { Job, LogLine, MethodName, Params, Progress, ServiceEvent, StanzaSummary, StartJob, Value } from './api.js';
import type { ServiceHandler } from './dispatch.js';
import { runJob } from './job-runner.js';
import { JobStore } from './job-store.js';
import { stanzaSummary } from './stanza-summary.js';

export interface ServiceOptions {
  /** Arguments that choose the configuration, as on the command line: `--config=...`. */
  readonly configArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where the job history is kept (default ~/.local/state/pgkeep). */
  readonly stateDir?: string;
  /** A backup older than this many hours is overdue (default 26: a daily backup and some slack). */
  readonly overdueHours?: number;
}

const LOG_KEPT = 1000;
const LOG_IN_EVENTS = 50;
const EVENT_INTERVAL_MS = 250;

interface RunningJob {
  job: Job;
  readonly controller: AbortController;
  readonly log: LogLine[];
  lastEvent: number;
  pendingEvent: NodeJS.Timeout | undefined;
}

/**
 * The application service every UI talks to (through dispatch.ts and a transport): stanzas with
 * their state, and jobs (backup, check, expire, verify) run in this process with the worker pool,
 * their progress and log streamed as events. One job per stanza runs at a time; the history is
 * kept on disk.
 */
export class PgkeepService implements ServiceHandler {
  private readonly listeners = new Set<(event: ServiceEvent) => void>();
  private readonly jobs = new Map<string, RunningJob>();
  private readonly store: JobStore;
  private loaded: Promise<void> | undefined;

  constructor(private readonly options: ServiceOptions = {}) {
    this.store = new JobStore(join(options.stateDir ?? join(homedir(), '.local', 'state', 'pgkeep'), 'jobs.json'));
    log.subscribe((record) => this.onLog(record));
  }

  subscribe(listener: (event: ServiceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async handle<M extends MethodName>(method: M, params: Params<M>): Promise<Value<M>> {
    await this.load();
    switch (method) {
      case 'listStanzas':
        return (await this.listStanzas()) as Value<M>;
      case 'getStanza':
        return (await this.stanza((params as Params<'getStanza'>).name)) as Value<M>;
      case 'startJob':
        return this.startJob(params as Params<'startJob'>) as Value<M>;
      case 'cancelJob':
        return this.cancelJob((params as Params<'cancelJob'>).id) as Value<M>;
      case 'getJob':
        return this.getJob((params as Params<'getJob'>).id) as Value<M>;
      case 'listJobs':
        return [...this.jobs.values()].map((entry) => this.snapshot(entry, LOG_IN_EVENTS)) as Value<M>;
      default:
        throw new PgkeepError('ParamInvalid', `unknown method '${String(method)}'`);
    }
  }

  private load(): Promise<void> {
    this.loaded ??= this.store.load().then((jobs) => {
      for (const job of jobs)
        this.jobs.set(job.id, {
          job,
          controller: new AbortController(),
          log: [...job.log],
          lastEvent: 0,
          pendingEvent: undefined,
        });
    });
    return this.loaded;
  }

  private configuredStanzas(): string[] {
    const early = new Map<string, Setting>();
    for (const [key, setting] of parseCommandLine(this.options.configArgs ?? []).settings) early.set(key, setting);
    return stanzaNames(loadConfigFiles(early).document);
  }

  /** The configuration of a command for a stanza, resolved exactly as the CLI resolves it. */
  configFor(command: CommandName, stanza: string, args: readonly string[] = []): Config {
    return resolveConfig({
      command,
      commandLine: parseCommandLine([...(this.options.configArgs ?? []), `--stanza=${stanza}`, ...args, command]),
      env: this.options.env ?? process.env,
    });
  }

  private async listStanzas(): Promise<StanzaSummary[]> {
    const summaries: StanzaSummary[] = [];
    for (const name of this.configuredStanzas()) summaries.push(await this.stanza(name));
    return summaries;
  }

  private async stanza(name: string): Promise<StanzaSummary> {
    if (!this.configuredStanzas().includes(name)) {
      throw new PgkeepError('ParamInvalid', `stanza '${name}' is not in the configuration`, {
        hint: 'add a [<stanza>] section with pg1-path to the configuration file',
      });
    }
    const summary = await stanzaSummary(this.configFor('check', name), { overdueHours: this.options.overdueHours ?? 26 });
    const running = [...this.jobs.values()].find((entry) => entry.job.state === 'running' && entry.job.request.stanza === name);
    return { ...summary, runningJobId: running?.job.id ?? null };
  }

  private startJob(request: StartJob): Job {
    if (!this.configuredStanzas().includes(request.stanza)) {
      throw new PgkeepError('ParamInvalid', `stanza '${request.stanza}' is not in the configuration`);
    }
    const busy = [...this.jobs.values()].find(
      (entry) => entry.job.state === 'running' && entry.job.request.stanza === request.stanza,
    );
    if (busy !== undefined) {
      throw new PgkeepError('LockAcquire', `a ${busy.job.request.kind} of stanza '${request.stanza}' is already running`, {
        hint: 'wait for it to end, or cancel it',
      });
    }
    const job: Job = {
      id: randomUUID(),
      request,
      state: 'running',
      startedAt: Date.now(),
      endedAt: null,
      progress: null,
      summary: null,
      backupLabel: null,
      error: null,
      log: [],
    };
    const entry: RunningJob = { job, controller: new AbortController(), log: [], lastEvent: 0, pendingEvent: undefined };
    this.jobs.set(job.id, entry);
    void this.persist();
    this.emitJob(entry, true);

    void log
      .scoped(job.id, () =>
        runJob(this, request, {
          signal: entry.controller.signal,
          onProgress: (progress) => this.update(entry, { progress }),
        }),
      )
      .then(
        (outcome) =>
          this.finish(entry, { state: 'succeeded', summary: outcome.summary, backupLabel: outcome.backupLabel ?? null }),
        (caught: unknown) => {
          const error = toPgkeepError(caught);
          const cancelled = entry.controller.signal.aborted;
          this.finish(entry, {
            state: cancelled ? 'cancelled' : 'failed',
            error: {
              code: error.code,
              name: error.errorName,
              message: cancelled ? 'the job was cancelled' : error.message,
              ...(error.hint === undefined ? {} : { hint: error.hint }),
            },
          });
        },
      );
    return this.snapshot(entry, LOG_IN_EVENTS);
  }

  private cancelJob(id: string): Job {
    const entry = this.entry(id);
    if (entry.job.state === 'running') entry.controller.abort(new PgkeepError('Cancelled', 'the job was cancelled'));
    return this.snapshot(entry, LOG_IN_EVENTS);
  }

  private getJob(id: string): Job {
    return this.snapshot(this.entry(id), LOG_KEPT);
  }

  private entry(id: string): RunningJob {
    const entry = this.jobs.get(id);
    if (entry === undefined)
      throw new PgkeepError('ParamInvalid', `no job with id '${id}'`, { hint: 'listJobs gives the known jobs' });
    return entry;
  }

  private update(entry: RunningJob, change: { progress: Progress }): void {
    entry.job = { ...entry.job, ...change };
    this.emitJob(entry, false);
  }

  private finish(entry: RunningJob, change: Partial<Job>): void {
    entry.job = { ...entry.job, ...change, endedAt: Date.now() };
    this.emitJob(entry, true);
    void this.persist();
    if (entry.job.request.kind !== 'check') this.emit({ type: 'stanzas-changed' });
  }

  private onLog(record: LogRecord): void {
    if (record.scope === undefined) return;
    const entry = this.jobs.get(record.scope);
    if (entry === undefined || record.level === 'debug') return;
    entry.log.push({ time: record.time.getTime(), level: record.level, message: record.message });
    if (entry.log.length > LOG_KEPT) entry.log.splice(0, entry.log.length - LOG_KEPT);
    this.emitJob(entry, false);
  }

  /** A job event now, or throttled: progress and log lines come fast. */
  private emitJob(entry: RunningJob, now: boolean): void {
    const send = () => {
      entry.pendingEvent = undefined;
      entry.lastEvent = Date.now();
      this.emit({ type: 'job', job: this.snapshot(entry, LOG_IN_EVENTS) });
    };
    if (now || Date.now() - entry.lastEvent >= EVENT_INTERVAL_MS) {
      if (entry.pendingEvent !== undefined) clearTimeout(entry.pendingEvent);
      send();
    } else {
      entry.pendingEvent ??= setTimeout(send, EVENT_INTERVAL_MS);
    }
  }

  private snapshot(entry: RunningJob, lines: number): Job {
    return { ...entry.job, log: entry.log.slice(-lines) };
  }

  private emit(event: ServiceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        log.warn(`a UI listener failed: ${(error as Error).message}`);
      }
    }
  }

  private async persist(): Promise<void> {
    try {
      await this.store.save([...this.jobs.values()].map((entry) => this.snapshot(entry, LOG_KEPT)));
    } catch (error) {
      log.warn(`unable to save the job history: ${(error as Error).message}`);
    }
  }
}
