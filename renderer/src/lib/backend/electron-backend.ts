import type { MethodName, Params, Result, ServiceEvent, Value } from '../../../../engine/service/api.js';
import { notifyAll, transportError, type Backend, type ConnectionInfo, type PreloadBridge } from './backend.js';

const CONNECTED: ConnectionInfo = { state: 'connected', retryAt: null };

/**
 * The desktop app's transport: the preload's bridge to the main process (IPC). There is no
 * connection to lose, so the state is always `connected`.
 */
export function createElectronBackend(bridge: PreloadBridge): Backend {
  let nextId = 1;
  const listeners = new Set<(event: ServiceEvent) => void>();
  let unsubscribeBridge: (() => void) | undefined;

  return {
    transport: 'electron',

    async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<Value<M>>> {
      const id = nextId++;
      try {
        const message = await bridge.call({ id, method, params });
        if (message.kind !== 'response' || message.id !== id) {
          return transportError(
            `the app's main process answered request ${id} (${method}) with something else`,
            'restart pgkeep',
          );
        }
        // The host validated the request against the schema of `method`, so the value is Value<M>.
        return message.result as Result<Value<M>>;
      } catch (error) {
        return transportError(`the app's main process did not answer ${method}: ${describe(error)}`, 'restart pgkeep');
      }
    },

    subscribe(listener) {
      listeners.add(listener);
      // One bridge subscription fans out to every listener, made with the first one.
      unsubscribeBridge ??= bridge.onEvent((event) => notifyAll(listeners, event));
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && unsubscribeBridge !== undefined) {
          unsubscribeBridge();
          unsubscribeBridge = undefined;
        }
      };
    },

    connection: () => CONNECTED,
    onConnectionChange: () => () => {},
    retryNow: () => {},
    close() {
      listeners.clear();
      unsubscribeBridge?.();
      unsubscribeBridge = undefined;
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
