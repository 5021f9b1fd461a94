import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';

import type { Job, StanzaSummary } from '../../../engine/service/api.js';
import { TestStanza } from '../../harness/stanza.js';
import { startUi, type UiProcess } from '../../harness/ui-process.js';
import { connect, openSession, request } from './api-socket.js';

/**
 * Jobs through browser mode's API, run by the real service in `pgkeep ui` (as postgres): one job
 * per stanza at a time, cancelling a running backup, errors for what does not exist, and a job
 * history that outlives the process.
 */
describe('jobs through the UI API', () => {
  let stanza: TestStanza;
  let ui: UiProcess;
  let socket: WebSocket;

  const job = async (id: string) => (await request<Job>(socket, 'getJob', { id })).result.value!;
  async function ended(id: string): Promise<Job> {
    for (let tries = 0; tries < 1200; tries++) {
      const current = await job(id);
      if (current.state !== 'running') return current;
      await sleep(100);
    }
    throw new Error(`job ${id} did not end`);
  }

  beforeAll(async () => {
    stanza = await TestStanza.create();
    // Enough data that a full backup is still copying when it is cancelled.
    await stanza.cluster.pgbench(['-i', '-s', '20', '-q']);
    await stanza.pgkeep(['stanza-create']);
    ui = await startUi(stanza.configPath);
    socket = await connect(ui.origin, { origin: ui.origin, cookie: await openSession(ui.url) });
  });
  afterAll(async () => {
    socket?.close();
    await ui?.stop();
    await stanza?.destroy();
  });

  it('a stanza or job that does not exist is a clear error', async () => {
    expect((await request(socket, 'getStanza', { name: 'other' })).result).toEqual({
      ok: false,
      code: 96,
      name: 'ParamInvalid',
      message: "stanza 'other' is not in the configuration",
      hint: 'add a [<stanza>] section with pg1-path to the configuration file',
    });
    expect((await request(socket, 'getJob', { id: 'nope' })).result).toEqual({
      ok: false,
      code: 96,
      name: 'ParamInvalid',
      message: "no job with id 'nope'",
      hint: 'listJobs gives the known jobs',
    });
    expect((await request(socket, 'cancelJob', { id: 'nope' })).result).toMatchObject({ ok: false, code: 96 });
  });

  it('one job per stanza: a second is refused while a backup runs; the backup cancelled leaves no backup', async () => {
    const started = await request<Job>(socket, 'startJob', { kind: 'backup', stanza: 'main', type: 'full' });
    expect(started.result.ok).toBe(true);
    const backup = started.result.value!;
    expect(backup).toMatchObject({ state: 'running', request: { kind: 'backup', stanza: 'main', type: 'full' } });

    expect((await request(socket, 'startJob', { kind: 'check', stanza: 'main' })).result).toEqual({
      ok: false,
      code: 50,
      name: 'LockAcquire',
      message: "a backup of stanza 'main' is already running",
      hint: 'wait for it to end, or cancel it',
    });
    const busy = (await request<StanzaSummary>(socket, 'getStanza', { name: 'main' })).result.value!;
    expect(busy.runningJobId).toBe(backup.id);

    // Cancel once it is copying (its progress has appeared).
    for (let tries = 0; tries < 600 && (await job(backup.id)).progress === null; tries++) await sleep(50);
    const cancelling = await request<Job>(socket, 'cancelJob', { id: backup.id });
    expect(cancelling.result.value!.id).toBe(backup.id);
    const cancelled = await ended(backup.id);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.error).toEqual({ code: 135, name: 'Cancelled', message: 'the job was cancelled' });
    expect(cancelled.endedAt).toBeGreaterThanOrEqual(cancelled.startedAt);
    expect(cancelled.backupLabel).toBeNull();
    // The oracle: no backup was recorded.
    const info = JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as [{ backup: unknown[] }];
    expect(info[0].backup).toEqual([]);
    // Cancelling an ended job changes nothing.
    expect((await request<Job>(socket, 'cancelJob', { id: backup.id })).result.value!.state).toBe('cancelled');

    // The stanza is free again: the next job runs.
    const free = (await request<StanzaSummary>(socket, 'getStanza', { name: 'main' })).result.value!;
    expect(free.runningJobId).toBeNull();
    const check = (await request<Job>(socket, 'startJob', { kind: 'check', stanza: 'main' })).result.value!;
    const checked = await ended(check.id);
    expect(checked.state).toBe('succeeded');
    expect(checked.log.map((line) => line.message)).toContain("check of stanza 'main' started");
  });

  it('expire jobs: a dry run says what would go and removes nothing, the real one removes it', async () => {
    await stanza.pgkeep(['--type=full', 'backup']);
    await stanza.pgkeep(['--type=full', 'backup']);
    const labels = async () =>
      (
        JSON.parse((await stanza.pgbackrest(['--output=json', 'info'])).stdout) as [{ backup: { label: string }[] }]
      )[0].backup.map((entry) => entry.label);
    const [older, newer] = await labels();
    stanza.writeConfig({ 'compress-type': 'lz4', 'repo1-retention-full': 1 });

    const dryRun = (await request<Job>(socket, 'startJob', { kind: 'expire', stanza: 'main', dryRun: true })).result.value!;
    const dryRunEnded = await ended(dryRun.id);
    expect(dryRunEnded.state).toBe('succeeded');
    expect(dryRunEnded.log.map((line) => line.message)).toContain("expire of stanza 'main' started (--dry-run)");
    expect(dryRunEnded.log.some((line) => line.message.includes('[DRY-RUN]') && line.message.includes(older!))).toBe(true);
    expect(await labels()).toEqual([older, newer]);

    const real = (await request<Job>(socket, 'startJob', { kind: 'expire', stanza: 'main', dryRun: false })).result.value!;
    expect((await ended(real.id)).state).toBe('succeeded');
    expect(await labels()).toEqual([newer]);
    stanza.writeConfig();
  });

  it('the job history outlives the process', async () => {
    const before = (await request<Job[]>(socket, 'listJobs', {})).result.value!;
    expect(before.map((entry) => [entry.request.kind, entry.state])).toEqual([
      ['backup', 'cancelled'],
      ['check', 'succeeded'],
      ['expire', 'succeeded'],
      ['expire', 'succeeded'],
    ]);
    socket.close();
    await ui.stop();

    ui = await startUi(stanza.configPath, ui.stateDir);
    socket = await connect(ui.origin, { origin: ui.origin, cookie: await openSession(ui.url) });
    const after = (await request<Job[]>(socket, 'listJobs', {})).result.value!;
    expect(after.map((entry) => [entry.id, entry.request.kind, entry.state, entry.error?.message ?? null])).toEqual(
      before.map((entry) => [entry.id, entry.request.kind, entry.state, entry.error?.message ?? null]),
    );
    const check = (await request<Job>(socket, 'getJob', { id: before[1]!.id })).result.value!;
    expect(check.log.map((line) => line.message)).toContain("check of stanza 'main' started");
  });
});
