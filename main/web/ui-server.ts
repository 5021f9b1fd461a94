import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

import { WebSocketServer, type WebSocket } from 'ws';

import type { ServiceEvent, WireMessage } from '../../engine/service/api.js';
import { dispatch, type ServiceHandler } from '../../engine/service/dispatch.js';
import { contentSecurityPolicy } from '../csp.js';

/**
 * Browser mode: the renderer bundle and the service API on one HTTP port. Access needs the random
 * token printed in the URL; the first request that carries it gets a session cookie (HttpOnly,
 * SameSite=Strict) and is redirected to a URL without it, so the token is used once and never
 * sits in the browser's history. The WebSocket accepts only that session and only from the
 * server's own Origin, so another web page cannot drive the API.
 */
export interface UiServerOptions {
  readonly service: ServiceHandler & { subscribe(listener: (event: ServiceEvent) => void): () => void };
  /** The built renderer (dist/renderer). */
  readonly rendererDir: string;
  readonly host?: string;
  readonly port?: number;
}

export interface UiServer {
  /** The URL to open, with the one-time token. */
  readonly url: string;
  readonly origin: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};
const COOKIE = 'pgkeep_session';

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1';
  let token: string | undefined = randomBytes(24).toString('base64url');
  const session = randomBytes(32).toString('base64url');
  let origin = '';

  const server: Server = createServer((request, response) => {
    handleHttp(request, response).catch(() => respond(response, 500, 'internal error'));
  });

  async function handleHttp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return respond(response, 405, 'method not allowed');
    const url = new URL(request.url ?? '/', origin);
    const offered = url.searchParams.get('token');
    if (offered !== null) {
      if (token === undefined || !same(offered, token))
        return respond(response, 403, 'this link was already used or is not valid: run pgkeep ui again for a new one');
      token = undefined; // one-time
      response.writeHead(303, {
        location: '/',
        'set-cookie': `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`,
        'cache-control': 'no-store',
      });
      return void response.end();
    }
    if (!hasSession(request)) return respond(response, 403, 'open the link that pgkeep ui printed (it carries a one-time token)');
    await serveFile(url.pathname, response);
  }

  function hasSession(request: IncomingMessage): boolean {
    const cookies = (request.headers.cookie ?? '').split(';').map((part) => part.trim());
    return cookies.some((cookie) => cookie.startsWith(`${COOKIE}=`) && same(cookie.slice(COOKIE.length + 1), session));
  }

  async function serveFile(pathname: string, response: ServerResponse): Promise<void> {
    const relative = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
    const file = join(options.rendererDir, relative === '' ? 'index.html' : relative);
    if (!file.startsWith(options.rendererDir + sep) && file !== options.rendererDir) return respond(response, 404, 'not found');
    const info = await stat(file).catch(() => undefined);
    const target = info?.isFile() ? file : join(options.rendererDir, 'index.html'); // client-side routes
    response.writeHead(200, {
      'content-type': TYPES[extname(target)] ?? 'application/octet-stream',
      'content-security-policy': contentSecurityPolicy(origin.replace(/^http/, 'ws')),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
    createReadStream(target).pipe(response);
  }

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (request, socket, head) => {
    if (request.headers.origin !== origin || !hasSession(request) || request.url !== '/api') {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => attach(ws));
  });

  function attach(ws: WebSocket): void {
    const unsubscribe = options.service.subscribe((event) => send(ws, { kind: 'event', event }));
    ws.on('message', (data) => {
      let raw: unknown;
      try {
        raw = JSON.parse(String(data));
      } catch {
        raw = undefined;
      }
      void dispatch(options.service, raw).then((message) => send(ws, message));
    });
    ws.on('close', unsubscribe);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  origin = `http://${urlHost}:${address.port}`;

  return {
    url: `${origin}/?token=${token}`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(ws: WebSocket, message: WireMessage): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}

function respond(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(`${message}\n`);
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
