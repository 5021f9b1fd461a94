import type { Backend } from '../backend/backend.js';
import { Clock } from './clock.svelte.js';
import { ConnectionService } from './connection.svelte.js';
import { JobsService } from './jobs.svelte.js';
import { StanzasService, type StanzasOptions } from './stanzas.svelte.js';

/** Everything the pages read, built on one backend. */
export interface AppState {
  readonly stanzas: StanzasService;
  readonly jobs: JobsService;
  readonly connection: ConnectionService;
  readonly clock: Clock;
  /** Starts loading, subscriptions and timers; returns what stops them. */
  start(): () => void;
}

export function createAppState(backend: Backend, options: StanzasOptions = {}): AppState {
  const stanzas = new StanzasService(backend, options);
  const jobs = new JobsService(backend);
  const connection = new ConnectionService(backend);
  const clock = new Clock();
  return {
    stanzas,
    jobs,
    connection,
    clock,
    start() {
      const stops = [
        stanzas.start(),
        jobs.start(),
        clock.start(),
        // Events sent while the connection was down are lost: reload what they would have changed.
        connection.start(() => {
          void stanzas.refresh();
          void jobs.load();
        }),
      ];
      return () => stops.forEach((stop) => stop());
    },
  };
}
