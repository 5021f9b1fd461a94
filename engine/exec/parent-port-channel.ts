import type { ParentChannel } from './channel.js';

/** The shape of Electron's `process.parentPort` inside a utility process (no Electron import here). */
export interface ParentPortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { readonly data: unknown }) => void): unknown;
}

/**
 * The worker's end of the link in an Electron utility process, for its worker entry:
 *
 *     runWorker(handlers, { channel: parentPortChannel(process.parentPort) });
 *
 * Messages are structured clones there: a Buffer arrives as a Uint8Array. Electron ends utility
 * processes together with the main process, so there is no disconnect to watch.
 */
export function parentPortChannel(port: ParentPortLike): ParentChannel {
  return {
    send: (message) => port.postMessage(message),
    onMessage: (listener) => port.on('message', (event) => listener(event.data)),
    onDisconnect: () => {},
    close: () => {},
  };
}
