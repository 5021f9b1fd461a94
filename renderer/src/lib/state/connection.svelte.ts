import type { Backend, ConnectionInfo } from '../backend/backend.js';

/** The backend's connection as reactive state, with a hook for "it came back". */
export class ConnectionService {
  info = $state.raw<ConnectionInfo>({ state: 'connecting', retryAt: null });
  readonly transport: Backend['transport'];
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
    this.transport = backend.transport;
    this.info = backend.connection();
  }

  /** `onReconnect` runs each time the connection is back after being down (events were missed). */
  start(onReconnect: () => void): () => void {
    return this.#backend.onConnectionChange((info) => {
      const wasDown = this.info.state === 'disconnected';
      this.info = info;
      if (info.state === 'connected' && wasDown) onReconnect();
    });
  }

  retryNow(): void {
    this.#backend.retryNow();
  }
}
