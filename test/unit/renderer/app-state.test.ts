import { render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import App from '../../../renderer/src/App.svelte';
import { createAppState } from '../../../renderer/src/lib/state/app-state.js';
import { Router, parseHash } from '../../../renderer/src/lib/state/router.svelte.js';
import { createWebSocketBackend } from '../../../renderer/src/lib/backend/websocket-backend.js';
import { FakeWebSocket } from './fake-websocket.js';
import { job, stanza } from './fixtures.js';

/** A fake `pgkeep ui` on the other end of the fake socket: answers every call from a table. */
function serve(ws: FakeWebSocket, answers: Record<string, unknown>): void {
  ws.open();
  const answered = new Set<number>();
  const pump = () => {
    for (const request of ws.sent) {
      if (answered.has(request.id)) continue;
      answered.add(request.id);
      ws.receive({ kind: 'response', id: request.id, result: { ok: true, value: answers[request.method] } });
    }
  };
  pump();
  const send = ws.send.bind(ws);
  ws.send = (data) => {
    send(data);
    queueMicrotask(pump);
  };
}

describe('the app over a WebSocket', () => {
  afterEach(() => {
    window.location.hash = '';
  });

  it('routes by hash', () => {
    expect(parseHash('')).toEqual({ page: 'dashboard' });
    expect(parseHash('#/')).toEqual({ page: 'dashboard' });
    expect(parseHash('#/jobs')).toEqual({ page: 'jobs' });
    expect(parseHash('#/stanza/db%2Dmain')).toEqual({ page: 'stanza', name: 'db-main' });
    expect(parseHash('#/stanza/%E0%A4%A')).toEqual({ page: 'not-found', path: '/stanza/%E0%A4%A' });
    expect(parseHash('#/restore')).toEqual({ page: 'not-found', path: '/restore' });
  });

  it('loads, shows the lost connection, and reloads stanzas and jobs when it is back', async () => {
    FakeWebSocket.made.length = 0;
    const backend = createWebSocketBackend({ url: 'ws://x/api', createSocket: (url) => new FakeWebSocket(url), minDelayMs: 10 });
    const app = createAppState(backend);
    const router = new Router(window);
    const stops = [app.start(), router.start()];
    render(App, { app, router });
    expect(screen.getByTestId('connection-status')).toHaveAttribute('data-state', 'connecting');

    serve(FakeWebSocket.last(), { listStanzas: [stanza()], listJobs: [] });
    expect(await screen.findByTestId('stanza-card')).toHaveAttribute('data-stanza', 'main');
    expect(screen.queryByTestId('connection-status')).toBeNull();
    expect(screen.getByTestId('nav-stanza')).toHaveAttribute('href', '#/stanza/main');

    FakeWebSocket.last().drop();
    expect(await screen.findByTestId('connection-status')).toHaveAttribute('data-state', 'disconnected');
    expect(screen.getByTestId('connection-status')).toHaveTextContent('Disconnected from pgkeep');
    // What was on screen stays, marked as possibly out of date.
    expect(screen.getByTestId('stanza-card')).toBeInTheDocument();

    await vi.waitFor(() => expect(FakeWebSocket.made).toHaveLength(2));
    const running = job({ id: 'job-2' });
    serve(FakeWebSocket.last(), { listStanzas: [stanza({ runningJobId: 'job-2' })], listJobs: [running], getJob: running });
    await vi.waitFor(() =>
      expect(FakeWebSocket.last().sent.map((request) => request.method)).toEqual(['listStanzas', 'listJobs', 'getJob']),
    );
    expect(await screen.findByTestId('nav-jobs-running')).toHaveTextContent('1 running');
    expect(screen.queryByTestId('connection-status')).toBeNull();

    window.location.hash = '#/jobs';
    expect(await screen.findByTestId('job-row')).toHaveAttribute('data-job-id', 'job-2');
    stops.forEach((stop) => stop());
    backend.close();
  });
});
