import type { Api, ErrorInfo, StanzaSummary } from '../../../../engine/service/api.js';
import { errorOf } from '../backend/backend.js';

export interface StanzasOptions {
  /** Reload this often even without a `stanzas-changed` event (archiving moves on by itself). */
  readonly intervalMs?: number;
}

/**
 * The stanzas the engine knows, reloaded when the engine says they changed and on an interval.
 * A failed reload keeps the last list on screen and sets `error`.
 */
export class StanzasService {
  list = $state.raw<readonly StanzaSummary[]>([]);
  /** The first load has finished (successfully or not). */
  loaded = $state(false);
  loading = $state(false);
  error = $state.raw<ErrorInfo | null>(null);

  readonly #api: Api;
  readonly #intervalMs: number;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(api: Api, options: StanzasOptions = {}) {
    this.#api = api;
    this.#intervalMs = options.intervalMs ?? 30_000;
  }

  start(): () => void {
    const unsubscribe = this.#api.subscribe((event) => {
      if (event.type === 'stanzas-changed') void this.refresh();
    });
    const timer = setInterval(() => void this.refresh(), this.#intervalMs);
    void this.refresh();
    return () => {
      unsubscribe();
      clearInterval(timer);
    };
  }

  byName(name: string): StanzaSummary | undefined {
    return this.list.find((stanza) => stanza.name === name);
  }

  /**
   * Reloads the list. Asked again while a reload runs, it loads once more afterwards, since the
   * running one may have been answered before the change that prompted the new request.
   */
  refresh(): Promise<void> {
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#load();
      } while (this.#again);
    })().finally(() => (this.#running = null));
    return this.#running;
  }

  async #load(): Promise<void> {
    this.loading = true;
    const result = await this.#api.call('listStanzas', {});
    if (result.ok) {
      this.list = result.value;
      this.error = null;
    } else {
      this.error = errorOf(result);
    }
    this.loading = false;
    this.loaded = true;
  }
}
