import type { MethodName, Params, Result, ServiceEvent, Value, WireRequest } from '../../../../engine/service/api.js';
import { notifyAll, transportError, type Backend, type ConnectionInfo } from './backend.js';

/** The part of the DOM's WebSocket this transport uses (tests pass a fake). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface WebSocketBackendOptions {
  /** ws://host:port/api (see apiUrl). */
  readonly url: string;
  readonly createSocket?: (url: string) => WebSocketLike;
  /** Wait before the first reconnect; it doubles after every failed attempt up to maxDelayMs. */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /** How long a call made while disconnected waits for the connection before it fails. */
  readonly queueTimeoutMs?: number;
}

const OPEN = 1;

/** The API's WebSocket address for a page served by `pgkeep ui` (same host, same session cookie). */
export function apiUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api`;
}

interface Pending {
  readonly method: string;
  readonly resolve: (result: Result<unknown>) => void;
}

interface Queued extends Pending {
  readonly request: WireRequest;
  readonly timer: ReturnType<typeof setTimeout>;
}

const NOT_CONNECTED_HINT = 'check that pgkeep ui is still running; if it was restarted, open the new link it printed';

/**
 * Browser mode's transport: requests with ids over one WebSocket, answered out of order; events
 * pushed by the server to every connection. When the socket closes it reconnects with
 * exponential backoff. The server subscribes each new connection to events, so listeners carry
 * over by themselves; the `connected` notice after a loss is the cue to reload state.
 * Calls made while disconnected wait (queueTimeoutMs) for the connection; calls already sent
 * when it drops fail, since nobody can say whether the engine ran them.
 */
export function createWebSocketBackend(options: WebSocketBackendOptions): Backend {
  const createSocket = options.createSocket ?? ((url: string) => new WebSocket(url));
  const minDelay = options.minDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const queueTimeout = options.queueTimeoutMs ?? 15_000;

  const listeners = new Set<(event: ServiceEvent) => void>();
  const connectionListeners = new Set<(info: ConnectionInfo) => void>();
  const sent = new Map<number, Pending>();
  const queued: Queued[] = [];
  let info: ConnectionInfo = { state: 'connecting', retryAt: null };
  let socket: WebSocketLike | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let nextId = 1;
  let closed = false;

  function setInfo(next: ConnectionInfo): void {
    if (next.state === info.state && next.retryAt === info.retryAt) return;
    info = next;
    notifyAll(connectionListeners, info);
  }

  function connect(): void {
    retryTimer = undefined;
    if (info.state === 'disconnected') setInfo({ state: 'disconnected', retryAt: null });
    let ws: WebSocketLike;
    try {
      ws = createSocket(options.url);
    } catch (error) {
      console.error('pgkeep: cannot open the API WebSocket', error);
      return scheduleRetry();
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      failures = 0;
      setInfo({ state: 'connected', retryAt: null });
      for (const item of queued.splice(0)) {
        clearTimeout(item.timer);
        send(item.request, item);
      }
    };
    ws.onmessage = (event) => {
      if (socket === ws) receive(event.data);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      for (const [id, pending] of sent) {
        sent.delete(id);
        pending.resolve(
          transportError(
            `the connection to pgkeep was lost before '${pending.method}' answered`,
            'it may or may not have run: look at the Jobs page once the connection is back',
          ),
        );
      }
      scheduleRetry();
    };
    ws.onerror = () => {}; // a close event always follows; it is handled there
  }

  function scheduleRetry(): void {
    if (closed) return;
    const delay = Math.min(maxDelay, minDelay * 2 ** failures);
    failures++;
    retryTimer = setTimeout(connect, delay);
    setInfo({ state: 'disconnected', retryAt: Date.now() + delay });
  }

  function send(request: WireRequest, pending: Pending): void {
    sent.set(request.id, pending);
    try {
      socket?.send(JSON.stringify(request));
    } catch (error) {
      sent.delete(request.id);
      pending.resolve(transportError(`could not send '${pending.method}': ${String(error)}`, NOT_CONNECTED_HINT));
    }
  }

  function receive(data: unknown): void {
    let message: unknown;
    try {
      message = typeof data === 'string' ? JSON.parse(data) : undefined;
    } catch {
      message = undefined;
    }
    if (!isRecord(message)) return console.warn('pgkeep: ignored a message that is not JSON', data);
    if (message.kind === 'response' && typeof message.id === 'number') {
      const pending = sent.get(message.id);
      if (pending === undefined) return console.warn('pgkeep: a response to no request', message);
      sent.delete(message.id);
      pending.resolve(
        isResult(message.result)
          ? message.result
          : transportError(`'${pending.method}' answered with no result`, 'report this as a bug'),
      );
    } else if (message.kind === 'event' && isRecord(message.event) && typeof message.event.type === 'string') {
      // The host built it from the event schema; listeners ignore types they do not know.
      notifyAll(listeners, message.event as ServiceEvent);
    } else {
      console.warn('pgkeep: ignored an unknown message', message);
    }
  }

  connect();

  return {
    transport: 'websocket',

    call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<Value<M>>> {
      const result = new Promise<Result<unknown>>((resolve) => {
        if (closed) return resolve(transportError('the connection to pgkeep is closed', 'reload the page'));
        const request: WireRequest = { id: nextId++, method, params };
        if (socket !== null && socket.readyState === OPEN && info.state === 'connected')
          return send(request, { method, resolve });
        const item: Queued = {
          method,
          resolve,
          request,
          timer: setTimeout(() => {
            queued.splice(queued.indexOf(item), 1);
            resolve(transportError(`not connected to pgkeep: '${method}' could not be sent`, NOT_CONNECTED_HINT));
          }, queueTimeout),
        };
        queued.push(item);
      });
      // The host validated the request against the schema of `method`, so the value is Value<M>.
      return result as Promise<Result<Value<M>>>;
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    connection: () => info,

    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => void connectionListeners.delete(listener);
    },

    retryNow() {
      if (closed || socket !== null) return;
      clearTimeout(retryTimer);
      connect();
    },

    close() {
      closed = true;
      clearTimeout(retryTimer);
      const open = socket;
      socket = null;
      open?.close(1000, 'closed');
      for (const item of queued.splice(0)) {
        clearTimeout(item.timer);
        item.resolve(transportError('the connection to pgkeep is closed', 'reload the page'));
      }
      for (const [id, pending] of sent) {
        sent.delete(id);
        pending.resolve(transportError('the connection to pgkeep is closed', 'reload the page'));
      }
      setInfo({ state: 'disconnected', retryAt: null });
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isResult(value: unknown): value is Result<unknown> {
  if (!isRecord(value)) return false;
  if (value.ok === true) return 'value' in value;
  return value.ok === false && typeof value.code === 'number' && typeof value.message === 'string';
}
