import type { Api, ErrorInfo, Result, ServiceEvent, WireMessage, WireRequest } from '../../../../engine/service/api.js';

/**
 * Where the renderer stands with the engine. The Electron transport is always `connected`; the
 * WebSocket one starts `connecting`, and is `disconnected` while it waits to try again after the
 * connection was lost (or could not be made).
 */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface ConnectionInfo {
  readonly state: ConnectionState;
  /** When the next attempt to reconnect is due (epoch ms), while disconnected. */
  readonly retryAt: number | null;
}

/**
 * The one interface every backend call goes through, whatever carries it. It is the service's
 * `Api` plus what a UI needs to know about the link itself. Event listeners outlive a lost
 * connection: a transport that reconnects keeps delivering events to the same listeners, and
 * announces `connected` again so state can be reloaded (events sent while away are lost).
 */
export interface Backend extends Api {
  readonly transport: 'websocket' | 'electron';
  connection(): ConnectionInfo;
  onConnectionChange(listener: (info: ConnectionInfo) => void): () => void;
  /** Try to reconnect now instead of waiting for the backoff timer. */
  retryNow(): void;
  /** Stop for good: pending calls fail, no reconnect. */
  close(): void;
}

/**
 * What Electron's preload exposes as `window.pgkeep` through contextBridge: one call that carries
 * a wire request to the main process and resolves with its response message, and the event feed.
 */
export interface PreloadBridge {
  call(request: WireRequest): Promise<WireMessage>;
  /** Returns the function that unsubscribes. */
  onEvent(listener: (event: ServiceEvent) => void): () => void;
}

/** Code and name of the engine's "a service call failed" error (error-table.ts: Service). */
const SERVICE_ERROR = { code: 101, name: 'Service' } as const;

/** A failure of the link itself, shaped like every other error result so the UI shows it the same way. */
export function transportError(message: string, hint: string): Result<never> {
  return { ok: false, ...SERVICE_ERROR, message, hint };
}

/** The error part of a failed result (drops `ok`), for components that show errors. */
export function errorOf(result: { ok: false } & ErrorInfo): ErrorInfo {
  return {
    code: result.code,
    name: result.name,
    message: result.message,
    ...(result.hint === undefined ? {} : { hint: result.hint }),
  };
}

/** Calls every listener, so one that throws cannot starve the others. */
export function notifyAll<T>(listeners: Iterable<(value: T) => void>, value: T): void {
  for (const listener of [...listeners]) {
    try {
      listener(value);
    } catch (error) {
      console.error('pgkeep: a listener failed', error);
    }
  }
}
