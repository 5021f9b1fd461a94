import { afterEach, describe, expect, it, vi } from 'vitest';

import type { Result, StanzaSummary } from '../../../engine/service/api.js';
import { StanzasService } from '../../../renderer/src/lib/state/stanzas.svelte.js';
import { FakeApi, ok } from './fake-api.js';
import { stanza } from './fixtures.js';

/** listStanzas answers are released by the test, to see what happens while one is pending. */
function slowApi() {
  const pending: ((result: Result<StanzaSummary[]>) => void)[] = [];
  const api = new FakeApi({ listStanzas: () => new Promise((resolve) => pending.push(resolve)) });
  return { api, pending };
}

describe('stanzas service', () => {
  afterEach(() => vi.useRealTimers());

  it('reloads on stanzas-changed and on its interval', async () => {
    vi.useFakeTimers();
    const api = new FakeApi({ listStanzas: () => ok([stanza()]) });
    const stanzas = new StanzasService(api, { intervalMs: 10_000 });
    const stop = stanzas.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(stanzas.loaded).toBe(true);
    expect(stanzas.byName('main')?.health).toBe('ok');
    expect(api.callsOf('listStanzas')).toHaveLength(1);
    api.emit({ type: 'stanzas-changed' });
    await vi.advanceTimersByTimeAsync(0);
    expect(api.callsOf('listStanzas')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(api.callsOf('listStanzas')).toHaveLength(3);
    stop();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(api.callsOf('listStanzas')).toHaveLength(3);
  });

  it('runs one more reload when asked during one, not one per request', async () => {
    const { api, pending } = slowApi();
    const stanzas = new StanzasService(api);
    const first = stanzas.refresh();
    void stanzas.refresh();
    void stanzas.refresh();
    expect(pending).toHaveLength(1);
    pending[0]!(ok([]));
    await vi.waitFor(() => expect(pending).toHaveLength(2));
    pending[1]!(ok([stanza()]));
    await first;
    expect(stanzas.list).toHaveLength(1);
    expect(api.callsOf('listStanzas')).toHaveLength(2);
  });

  it('keeps the last list when a reload fails', async () => {
    const api = new FakeApi({ listStanzas: () => ok([stanza()]) });
    const stanzas = new StanzasService(api);
    await stanzas.refresh();
    api.handlers.listStanzas = () => ({ ok: false, code: 101, name: 'Service', message: 'the connection to pgkeep was lost' });
    await stanzas.refresh();
    expect(stanzas.list).toHaveLength(1);
    expect(stanzas.error?.message).toBe('the connection to pgkeep was lost');
    api.handlers.listStanzas = () => ok([]);
    await stanzas.refresh();
    expect(stanzas.error).toBeNull();
    expect(stanzas.list).toEqual([]);
  });
});
