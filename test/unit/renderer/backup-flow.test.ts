import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';

import type { Job, StartJob } from '../../../engine/service/api.js';
import { JobsService } from '../../../renderer/src/lib/state/jobs.svelte.js';
import { StanzasService } from '../../../renderer/src/lib/state/stanzas.svelte.js';
import StanzaPage from '../../../renderer/src/pages/StanzaPage.svelte';
import { FakeApi, ok } from './fake-api.js';
import { NOW, job, stanza } from './fixtures.js';

const GB = 1024 ** 3;

/** A stanza page on a fake engine whose startJob answers with a fresh running job. */
async function setUp(existingJobs: Job[] = []) {
  const api = new FakeApi({
    listStanzas: () => ok([stanza()]),
    listJobs: () => ok(existingJobs),
    getJob: ({ id }) => ok(existingJobs.find((known) => known.id === id)!),
    startJob: (request: StartJob) => ok(job({ id: 'job-7', request, startedAt: NOW - 1000 })),
    cancelJob: ({ id }) => ok(job({ id, state: 'cancelled', endedAt: NOW })),
  });
  const stanzas = new StanzasService(api);
  const jobs = new JobsService(api);
  const stops = [stanzas.start(), jobs.start()];
  await waitFor(() => expect(stanzas.loaded && jobs.loaded).toBe(true));
  const view = render(StanzaPage, { name: 'main', stanzas, jobs, now: NOW });
  return { api, jobs, view, stop: () => stops.forEach((stop) => stop()) };
}

function running(progress: Job['progress'], log: Job['log'] = []): Job {
  return job({ id: 'job-7', request: { kind: 'backup', stanza: 'main', type: 'full' }, startedAt: NOW - 1000, progress, log });
}

describe('back up now', () => {
  it('lists the stanza backups in a table, newest first', async () => {
    const { stop } = await setUp();
    const rows = screen.getAllByTestId('backup-row');
    expect(rows.map((row) => row.getAttribute('data-type'))).toEqual(['incr', 'diff', 'full']);
    expect(rows[0]).toHaveTextContent('incr');
    expect(rows[0]).toHaveTextContent('1 min 35 s');
    expect(rows[0]).toHaveTextContent('1.4 GB');
    expect(rows[0]).toHaveTextContent('000000010000000000000010');
    expect(rows[0]).toHaveTextContent(rows[2]!.getAttribute('data-label')!);
    stop();
  });

  it('defaults to incremental and explains each type', async () => {
    const { stop } = await setUp();
    expect(screen.getByTestId('backup-type-incr')).toBeChecked();
    const chooser = screen.getByTestId('backup-type');
    expect(chooser).toHaveTextContent('copies every file');
    expect(chooser).toHaveTextContent('changed since the last full backup');
    expect(chooser).toHaveTextContent('changed since the last backup of any type');
    expect(screen.getByRole('radio', { name: /Differential/ })).not.toBeChecked();
    stop();
  });

  it('starts a job of the chosen type, follows its progress and log, and shows the summary at the end', async () => {
    const { api, stop } = await setUp();
    await fireEvent.click(screen.getByTestId('backup-type-full'));
    await fireEvent.click(screen.getByTestId('backup-start'));
    expect(api.callsOf('startJob')).toEqual([{ kind: 'backup', stanza: 'main', type: 'full' }]);

    // The job is shown at once, and no second backup can be started while it runs.
    await waitFor(() => expect(screen.getByTestId('job-state')).toHaveTextContent('Running'));
    expect(screen.getByTestId('backup-start')).toBeDisabled();
    expect(screen.getByTestId('job-progress')).not.toHaveAttribute('aria-valuenow');

    api.emit({
      type: 'job',
      job: running({ bytesDone: 0.25 * GB, bytesTotal: GB, filesDone: 100, filesTotal: 1200, rate: 50 * 1024 ** 2, eta: 15 }, [
        { time: NOW - 900, level: 'info', message: 'backup start archive = 000000010000000000000044, lsn = 0/44000028' },
      ]),
    });
    await waitFor(() => expect(screen.getByTestId('job-progress')).toHaveAttribute('aria-valuenow', '25'));
    const numbers = screen.getByTestId('job-progress-text');
    expect(numbers).toHaveTextContent('25% · 256 MB of 1.0 GB · 100 of 1,200 files · 50.0 MB/s · about 15 s left');
    expect(screen.getAllByTestId('job-log-line')).toHaveLength(1);

    api.emit({
      type: 'job',
      job: running({ bytesDone: 0.8 * GB, bytesTotal: GB, filesDone: 1000, filesTotal: 1200, rate: 60 * 1024 ** 2, eta: 3 }, [
        { time: NOW - 900, level: 'info', message: 'backup start archive = 000000010000000000000044, lsn = 0/44000028' },
        { time: NOW - 500, level: 'warn', message: 'page 12 of base/5/16384 failed its checksum' },
      ]),
    });
    await waitFor(() => expect(screen.getByTestId('job-progress')).toHaveAttribute('aria-valuenow', '80'));
    expect(screen.getAllByTestId('job-log-line').map((line) => line.textContent)).toEqual([
      expect.stringContaining('backup start archive'),
      expect.stringContaining('page 12 of base/5/16384 failed its checksum'),
    ]);

    const summary = 'full backup 20261121-115959F: 1.0 GB in 20 s';
    api.emit({
      type: 'job',
      job: { ...running(null), state: 'succeeded', endedAt: NOW, summary, backupLabel: '20261121-115959F', progress: null },
    });
    await waitFor(() => expect(screen.getByTestId('job-state')).toHaveTextContent('Succeeded'));
    const result = screen.getByTestId('job-result');
    expect(result).toHaveAttribute('data-state', 'succeeded');
    expect(result).toHaveTextContent(summary);
    expect(screen.getByTestId('job-backup-label')).toHaveTextContent('20261121-115959F');
    expect(screen.queryByTestId('job-progress')).toBeNull();
    expect(screen.queryByTestId('job-cancel')).toBeNull();
    // The log that came with the events is kept after the end.
    expect(screen.getAllByTestId('job-log-line')).toHaveLength(2);
    expect(screen.getByTestId('backup-start')).toBeEnabled();
    stop();
  });

  it('shows a failed job with the error, its hint and code', async () => {
    const { api, stop } = await setUp();
    await fireEvent.click(screen.getByTestId('backup-start'));
    expect(api.callsOf('startJob')).toEqual([{ kind: 'backup', stanza: 'main', type: 'incr' }]);
    api.emit({
      type: 'job',
      job: {
        ...running(null),
        state: 'failed',
        endedAt: NOW,
        error: {
          code: 82,
          name: 'ArchiveTimeout',
          message: 'WAL segment 000000010000000000000045 was not archived in 60 s',
          hint: 'check archive_command',
        },
      },
    });
    await waitFor(() => expect(screen.getByTestId('job-result')).toHaveAttribute('data-state', 'failed'));
    const box = screen.getByTestId('error-box');
    expect(box).toHaveTextContent('WAL segment 000000010000000000000045 was not archived in 60 s');
    expect(box).toHaveTextContent('check archive_command');
    expect(box).toHaveTextContent('error 82 (ArchiveTimeout)');
    stop();
  });

  it('shows why a backup could not start', async () => {
    const { api, stop } = await setUp();
    api.handlers.startJob = () => ({
      ok: false,
      code: 50,
      name: 'LockAcquire',
      message: "unable to acquire lock on '/tmp/pgkeep/main-backup.lock': held by process 4242",
      hint: 'another backup of this stanza is running; wait for it to end',
    });
    await fireEvent.click(screen.getByTestId('backup-start'));
    const box = await screen.findByTestId('error-box');
    expect(box).toHaveTextContent('The backup could not start');
    expect(box).toHaveTextContent('held by process 4242');
    expect(box).toHaveTextContent('error 50 (LockAcquire)');
    expect(screen.queryByTestId('job-panel')).toBeNull();
    expect(screen.getByTestId('backup-start')).toBeEnabled();
    stop();
  });

  it('cancels the running job', async () => {
    const { api, stop } = await setUp();
    await fireEvent.click(screen.getByTestId('backup-start'));
    await fireEvent.click(await screen.findByTestId('job-cancel'));
    expect(api.callsOf('cancelJob')).toEqual([{ id: 'job-7' }]);
    await waitFor(() => expect(screen.getByTestId('job-result')).toHaveAttribute('data-state', 'cancelled'));
    expect(screen.getByTestId('backup-start')).toBeEnabled();
    stop();
  });
});
