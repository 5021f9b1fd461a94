import WebSocket from 'ws';

/** What the UI API answers to one request. */
export interface ApiResponse<T = unknown> {
  readonly kind: string;
  readonly id: number;
  readonly result: { ok: boolean; code?: number; name?: string; message?: string; hint?: string; value?: T };
}

/** Opens the API socket; resolves with the socket, or rejects with the HTTP status of a refusal. */
export function connect(origin: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${origin.replace('http', 'ws')}/api`, { headers });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => reject(new Error(`refused with ${response.statusCode}`)));
    socket.once('error', reject);
  });
}

export function call(socket: WebSocket, raw: string): Promise<ApiResponse> {
  return new Promise((resolve) => {
    const listener = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data)) as { kind: string; id: number; result: { ok: boolean } };
      if (message.kind !== 'response') return;
      socket.off('message', listener);
      resolve(message as never);
    };
    socket.on('message', listener);
    socket.send(raw);
  });
}

/** Spends the one-time token of `url` and returns the session cookie it sets. */
export async function openSession(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  const cookie = response.headers.get('set-cookie');
  if (response.status !== 303 || cookie === null) throw new Error(`the token was refused: ${response.status}`);
  return cookie.split(';')[0]!;
}

/** One request: `await request(socket, 'getJob', { id })`. */
let nextId = 1000;
export function request<T = unknown>(socket: WebSocket, method: string, params: unknown): Promise<ApiResponse<T>> {
  return call(socket, JSON.stringify({ id: nextId++, method, params })) as Promise<ApiResponse<T>>;
}
