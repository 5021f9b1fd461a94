import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { ServiceEvent } from '../../../engine/service/api.js';
import type { ConnectionInfo } from '../../../renderer/src/lib/backend/backend.js';
import { apiUrl, createWebSocketBackend } from '../../../renderer/src/lib/backend/websocket-backend.js';
import { FakeWebSocket } from './fake-websocket.js';
import { job } from './fixtures.js';

function setUp(options: { queueTimeoutMs?: number } = {}) {
  FakeWebSocket.made.length = 0;
  const backend = createWebSocketBackend({
    url: 'ws://127.0.0.1:4321/api',
    createSocket: (url) => new FakeWebSocket(url),
    minDelayMs: 500,
    maxDelayMs: 4000,
    ...options,
  });
  const states: ConnectionInfo['state'][] = [];
  backend.onConnectionChange((info) => states.push(info.state));
  const events: ServiceEvent[] = [];
  backend.subscribe((event) => events.push(event));
  return { backend, states, events };
}

describe('WebSocket backend', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('derives the API address from the page', () => {
    expect(apiUrl({ protocol: 'http:', host: '127.0.0.1:8123' })).toBe('ws://127.0.0.1:8123/api');
    expect(apiUrl({ protocol: 'https:', host: 'jump.example:443' })).toBe('wss://jump.example:443/api');
  });

  it('sends requests with ids and matches out-of-order responses to them', async () => {
    const { backend, states } = setUp();
    const ws = FakeWebSocket.last();
    expect(ws.url).toBe('ws://127.0.0.1:4321/api');
    expect(backend.connection().state).toBe('connecting');
    ws.open();
    expect(states).toEqual(['connected']);

    const stanzas = backend.call('listStanzas', {});
    const one = backend.call('getJob', { id: 'job-1' });
    expect(ws.sent).toEqual([
      { id: 1, method: 'listStanzas', params: {} },
      { id: 2, method: 'getJob', params: { id: 'job-1' } },
    ]);
    ws.receive({ kind: 'response', id: 2, result: { ok: true, value: job() } });
    ws.receive({
      kind: 'response',
      id: 1,
      result: { ok: false, code: 103, name: 'RepoInvalid', message: 'no repository', hint: 'run stanza-create' },
    });
    await expect(one).resolves.toEqual({ ok: true, value: job() });
    await expect(stanzas).resolves.toEqual({
      ok: false,
      code: 103,
      name: 'RepoInvalid',
      message: 'no repository',
      hint: 'run stanza-create',
    });
  });

  it('delivers events to every listener and ignores garbage', () => {
    const { backend, events } = setUp();
    const ws = FakeWebSocket.last();
    ws.open();
    const second: ServiceEvent[] = [];
    const unsubscribe = backend.subscribe((event) => second.push(event));
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    ws.receive('not json');
    ws.receive({ kind: 'response', id: 99, result: { ok: true, value: 1 } });
    ws.receive({ kind: 'event', event: { type: 'stanzas-changed' } });
    unsubscribe();
    ws.receive({ kind: 'event', event: { type: 'job', job: job() } });
    expect(events).toEqual([{ type: 'stanzas-changed' }, { type: 'job', job: job() }]);
    expect(second).toEqual([{ type: 'stanzas-changed' }]);
  });

  it('holds calls made before the connection opens and sends them when it does', async () => {
    const { backend } = setUp();
    const ws = FakeWebSocket.last();
    const answer = backend.call('listJobs', {});
    expect(ws.sent).toEqual([]);
    ws.open();
    expect(ws.sent).toEqual([{ id: 1, method: 'listJobs', params: {} }]);
    ws.receive({ kind: 'response', id: 1, result: { ok: true, value: [] } });
    await expect(answer).resolves.toEqual({ ok: true, value: [] });
  });

  it('fails calls in flight when the connection drops, reconnects with backoff, and keeps delivering events', async () => {
    const { backend, states, events } = setUp();
    const first = FakeWebSocket.last();
    first.open();
    const lost = backend.call('listStanzas', {});
    first.drop();
    await expect(lost).resolves.toMatchObject({
      ok: false,
      code: 101,
      name: 'Service',
      message: "the connection to pgkeep was lost before 'listStanzas' answered",
    });
    expect(backend.connection()).toEqual({ state: 'disconnected', retryAt: 1_000_000 + 500 });

    // Backoff doubles while the server stays away: 500 ms, then 1 s, then 2 s.
    vi.advanceTimersByTime(499);
    expect(FakeWebSocket.made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.made).toHaveLength(2);
    FakeWebSocket.last().drop();
    vi.advanceTimersByTime(999);
    expect(FakeWebSocket.made).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.made).toHaveLength(3);
    FakeWebSocket.last().drop();
    expect(backend.connection().retryAt).toBe(Date.now() + 2000);

    // A call made while away waits for the connection.
    const waiting = backend.call('listJobs', {});
    vi.advanceTimersByTime(2000);
    const back = FakeWebSocket.last();
    expect(FakeWebSocket.made).toHaveLength(4);
    back.open();
    expect(backend.connection().state).toBe('connected');
    expect(back.sent).toEqual([{ id: 2, method: 'listJobs', params: {} }]);
    back.receive({ kind: 'response', id: 2, result: { ok: true, value: [] } });
    await expect(waiting).resolves.toEqual({ ok: true, value: [] });

    // The same listeners hear the new connection's events.
    back.receive({ kind: 'event', event: { type: 'stanzas-changed' } });
    expect(events).toEqual([{ type: 'stanzas-changed' }]);
    // Three losses, each announced twice: waiting (with retryAt) and trying again (retryAt null).
    expect(states).toEqual(['connected', ...Array<string>(6).fill('disconnected'), 'connected']);

    // After a success the backoff starts over.
    back.drop();
    expect(backend.connection().retryAt).toBe(Date.now() + 500);
  });

  it('caps the backoff and retries at once when asked', () => {
    const { backend } = setUp();
    for (let i = 0; i < 6; i++) {
      FakeWebSocket.last().drop();
      vi.runOnlyPendingTimers();
    }
    FakeWebSocket.last().drop();
    expect(backend.connection().retryAt).toBe(Date.now() + 4000);
    const before = FakeWebSocket.made.length;
    backend.retryNow();
    expect(FakeWebSocket.made).toHaveLength(before + 1);
    backend.retryNow(); // already trying: no second socket
    expect(FakeWebSocket.made).toHaveLength(before + 1);
  });

  it('gives up on a call that waited too long for the connection', async () => {
    const { backend } = setUp({ queueTimeoutMs: 3000 });
    FakeWebSocket.last().drop();
    const answer = backend.call('listStanzas', {});
    vi.advanceTimersByTime(3000);
    await expect(answer).resolves.toMatchObject({
      ok: false,
      code: 101,
      message: "not connected to pgkeep: 'listStanzas' could not be sent",
    });
    const result = await answer;
    expect(result.ok === false && result.hint).toContain('pgkeep ui');
  });

  it('stops for good on close: waiting calls fail, no reconnect', async () => {
    const { backend } = setUp();
    const ws = FakeWebSocket.last();
    ws.open();
    const inFlight = backend.call('listJobs', {});
    backend.close();
    expect(ws.closedWith).toBe(1000);
    await expect(inFlight).resolves.toMatchObject({ ok: false, message: 'the connection to pgkeep is closed' });
    await expect(backend.call('listJobs', {})).resolves.toMatchObject({
      ok: false,
      message: 'the connection to pgkeep is closed',
    });
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.made).toHaveLength(1);
    expect(backend.connection().state).toBe('disconnected');
  });
});
