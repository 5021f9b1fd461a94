import { describe, expect, it } from 'vitest';

import type { ServiceEvent, WireMessage, WireRequest } from '../../../engine/service/api.js';
import type { PreloadBridge } from '../../../renderer/src/lib/backend/backend.js';
import { createElectronBackend } from '../../../renderer/src/lib/backend/electron-backend.js';
import { selectBackend } from '../../../renderer/src/lib/backend/select-backend.js';
import { job } from './fixtures.js';

/** What the preload exposes, faked: answers every request with its echo, and an event feed. */
function fakeBridge(answer: (request: WireRequest) => Promise<WireMessage>) {
  const requests: WireRequest[] = [];
  const listeners = new Set<(event: ServiceEvent) => void>();
  const bridge: PreloadBridge = {
    call: (request) => {
      requests.push(request);
      return answer(request);
    },
    onEvent: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
  return { bridge, requests, listeners };
}

describe('Electron backend', () => {
  it('carries requests over the preload bridge and returns their results', async () => {
    const { bridge, requests } = fakeBridge(async (request) => ({
      kind: 'response',
      id: request.id,
      result: { ok: true, value: [job()] },
    }));
    const backend = createElectronBackend(bridge);
    expect(backend.transport).toBe('electron');
    expect(backend.connection().state).toBe('connected');
    await expect(backend.call('listJobs', {})).resolves.toEqual({ ok: true, value: [job()] });
    await backend.call('getJob', { id: 'job-1' });
    expect(requests).toEqual([
      { id: 1, method: 'listJobs', params: {} },
      { id: 2, method: 'getJob', params: { id: 'job-1' } },
    ]);
  });

  it('turns a failed IPC call into an error result', async () => {
    const { bridge } = fakeBridge(async () => {
      throw new Error('no handler registered for pgkeep:call');
    });
    await expect(createElectronBackend(bridge).call('listStanzas', {})).resolves.toMatchObject({
      ok: false,
      code: 101,
      message: "the app's main process did not answer listStanzas: no handler registered for pgkeep:call",
      hint: 'restart pgkeep',
    });
  });

  it('fans events out from one bridge subscription, dropped with the last listener', () => {
    const { bridge, listeners } = fakeBridge(async () => ({ kind: 'event', event: { type: 'stanzas-changed' } }));
    const backend = createElectronBackend(bridge);
    const a: ServiceEvent[] = [];
    const b: ServiceEvent[] = [];
    const stopA = backend.subscribe((event) => a.push(event));
    const stopB = backend.subscribe((event) => b.push(event));
    expect(listeners.size).toBe(1);
    for (const listener of listeners) listener({ type: 'stanzas-changed' });
    stopA();
    for (const listener of listeners) listener({ type: 'job', job: job() });
    expect(a).toEqual([{ type: 'stanzas-changed' }]);
    expect(b).toEqual([{ type: 'stanzas-changed' }, { type: 'job', job: job() }]);
    stopB();
    expect(listeners.size).toBe(0);
  });

  it('is chosen when the preload exposed window.pgkeep', () => {
    const { bridge } = fakeBridge(async (request) => ({ kind: 'response', id: request.id, result: { ok: true, value: [] } }));
    window.pgkeep = bridge;
    try {
      expect(selectBackend(window).transport).toBe('electron');
    } finally {
      delete window.pgkeep;
    }
  });
});
