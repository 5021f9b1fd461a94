import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStanza } from '../../harness/stanza.js';
import { startUi, type UiProcess } from '../../harness/ui-process.js';
import { call, connect } from './api-socket.js';

function snapshot(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(root, path)] = createHash('sha1').update(readFileSync(path)).digest('hex');
    }
  };
  walk(root);
  return files;
}

/** Browser mode refuses whatever does not come from the page it served, and validates every payload. */
describe('the UI API refuses what it must and changes nothing', () => {
  let stanza: TestStanza;
  let ui: UiProcess;
  let cookie: string;

  beforeAll(async () => {
    stanza = await TestStanza.create();
    await stanza.pgkeep(['stanza-create']);
    ui = await startUi(stanza.configPath);
  });
  afterAll(async () => {
    await ui?.stop();
    await stanza?.destroy();
  });

  it('serves nothing without the token, and the token only once', async () => {
    const plain = await fetch(`${ui.origin}/`);
    expect(plain.status).toBe(403);
    expect(await plain.text()).toContain('open the link that pgkeep ui printed');
    expect((await fetch(`${ui.origin}/?token=wrong`, { redirect: 'manual' })).status).toBe(403);

    const first = await fetch(ui.url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    expect(first.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await fetch(ui.url, { redirect: 'manual' })).status).toBe(403);

    const page = await fetch(`${ui.origin}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('refuses a WebSocket without the session or from a foreign Origin', async () => {
    await expect(connect(ui.origin, { origin: ui.origin })).rejects.toThrow('refused with 403');
    await expect(connect(ui.origin, { origin: 'http://evil.example', cookie })).rejects.toThrow('refused with 403');
    const socket = await connect(ui.origin, { origin: ui.origin, cookie });
    socket.close();
  });

  it('answers invalid payloads with clear errors and runs nothing', async () => {
    const before = snapshot(stanza.repoPath);
    const socket = await connect(ui.origin, { origin: ui.origin, cookie });
    try {
      const notJson = await call(socket, '{not json');
      expect(notJson.result).toMatchObject({
        ok: false,
        code: 96,
        message: expect.stringContaining('the request is not {id, method, params}'),
      });

      const unknown = await call(socket, JSON.stringify({ id: 1, method: 'dropDatabase', params: {} }));
      expect(unknown).toMatchObject({ id: 1, result: { ok: false, code: 96, message: "unknown method 'dropDatabase'" } });

      const badKind = await call(
        socket,
        JSON.stringify({ id: 2, method: 'startJob', params: { kind: 'restore', stanza: 'main' } }),
      );
      expect(badKind.result).toMatchObject({
        ok: false,
        code: 96,
        message: expect.stringContaining("invalid parameters for 'startJob'"),
      });

      const badStanza = await call(
        socket,
        JSON.stringify({ id: 3, method: 'startJob', params: { kind: 'backup', stanza: '../../etc', type: 'full' } }),
      );
      expect(badStanza.result).toMatchObject({ ok: false, code: 96, message: expect.stringContaining("at 'stanza'") });

      const badType = await call(
        socket,
        JSON.stringify({ id: 4, method: 'startJob', params: { kind: 'backup', stanza: 'main', type: 'everything' } }),
      );
      expect(badType.result).toMatchObject({ ok: false, code: 96, message: expect.stringContaining("at 'type'") });

      const unknownStanza = await call(
        socket,
        JSON.stringify({ id: 5, method: 'startJob', params: { kind: 'backup', stanza: 'other', type: 'full' } }),
      );
      expect(unknownStanza.result).toMatchObject({ ok: false, code: 96, message: "stanza 'other' is not in the configuration" });

      const jobs = await call(socket, JSON.stringify({ id: 6, method: 'listJobs', params: {} }));
      expect(jobs.result).toEqual({ ok: true, value: [] });
    } finally {
      socket.close();
    }
    expect(snapshot(stanza.repoPath)).toEqual(before);
  });
});
