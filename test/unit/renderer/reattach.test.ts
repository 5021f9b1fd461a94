import { render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';

import { JobsService } from '../../../renderer/src/lib/state/jobs.svelte.js';
import { StanzasService } from '../../../renderer/src/lib/state/stanzas.svelte.js';
import JobsPage from '../../../renderer/src/pages/JobsPage.svelte';
import StanzaPage from '../../../renderer/src/pages/StanzaPage.svelte';
import { FakeApi, ok } from './fake-api.js';
import { NOW, job, stanza } from './fixtures.js';

const progress = { bytesDone: 600, bytesTotal: 1000, filesDone: 6, filesTotal: 10, rate: 100, eta: 4 };
const lines = Array.from({ length: 30 }, (_, i) => ({
  time: NOW - 30_000 + i * 1000,
  level: 'info' as const,
  message: `line ${i}`,
}));
/** listJobs carries the last lines only; getJob all that were kept. */
const listed = job({ id: 'job-9', progress, log: lines.slice(-5) });
const whole = job({ id: 'job-9', progress, log: lines });

describe('a reloaded page re-attaches to the running job', () => {
  it('finds the running job through listJobs and shows its live progress and whole log', async () => {
    const api = new FakeApi({
      listStanzas: () => ok([stanza({ runningJobId: 'job-9' })]),
      listJobs: () => ok([listed]),
      getJob: () => ok(whole),
    });
    const stanzas = new StanzasService(api);
    const jobs = new JobsService(api);
    const stops = [stanzas.start(), jobs.start()];
    await waitFor(() => expect(jobs.get('job-9')?.log).toHaveLength(30));
    expect(api.callsOf('getJob')).toEqual([{ id: 'job-9' }]);

    render(StanzaPage, { name: 'main', stanzas, jobs, now: NOW });
    await waitFor(() => expect(screen.getByTestId('job-panel')).toHaveAttribute('data-job-id', 'job-9'));
    expect(screen.getByTestId('job-state')).toHaveTextContent('Running');
    expect(screen.getByTestId('job-progress')).toHaveAttribute('aria-valuenow', '60');
    expect(screen.getAllByTestId('job-log-line')).toHaveLength(30);
    expect(screen.getByTestId('backup-start')).toBeDisabled();
    expect(screen.getByTestId('backup-busy')).toBeInTheDocument();

    // Events keep coming after the reload, and move the same bar.
    api.emit({
      type: 'job',
      job: job({
        id: 'job-9',
        progress: { ...progress, bytesDone: 900 },
        log: [...lines.slice(-4), { time: NOW, level: 'info', message: 'line 30' }],
      }),
    });
    await waitFor(() => expect(screen.getByTestId('job-progress')).toHaveAttribute('aria-valuenow', '90'));
    expect(screen.getAllByTestId('job-log-line')).toHaveLength(31);
    stops.forEach((stop) => stop());
  });

  it('fetches a job the stanza says is running when listJobs did not have it', async () => {
    const api = new FakeApi({
      listStanzas: () => ok([stanza({ runningJobId: 'job-9' })]),
      listJobs: () => ok([]),
      getJob: () => ok(whole),
    });
    const stanzas = new StanzasService(api);
    const jobs = new JobsService(api);
    const stop = jobs.start();
    await stanzas.refresh();
    await waitFor(() => expect(jobs.loaded).toBe(true));
    render(StanzaPage, { name: 'main', stanzas, jobs, now: NOW });
    // Disabled from the stanza's own word, before the job is even known.
    expect(screen.getByTestId('backup-start')).toBeDisabled();
    await waitFor(() => expect(screen.getByTestId('job-progress')).toHaveAttribute('aria-valuenow', '60'));
    expect(api.callsOf('getJob')).toEqual([{ id: 'job-9' }]);

    // The job's end enables the button even before the stanza list is reloaded.
    api.emit({ type: 'job', job: { ...whole, state: 'succeeded', endedAt: NOW, summary: 'incremental backup done' } });
    await waitFor(() => expect(screen.getByTestId('backup-start')).toBeEnabled());
    expect(stanzas.byName('main')?.runningJobId).toBe('job-9');
    expect(screen.getByTestId('job-result')).toHaveTextContent('incremental backup done');
    stop();
  });

  it('lists jobs, running and ended, on the jobs page', async () => {
    const failed = job({
      id: 'job-3',
      state: 'failed',
      startedAt: NOW - 7_200_000,
      endedAt: NOW - 7_100_000,
      error: { code: 56, name: 'DbConnect', message: 'unable to connect to PostgreSQL on db1:5432', hint: 'check pg1-host' },
    });
    const api = new FakeApi({ listJobs: () => ok([failed, listed]), getJob: () => ok(whole) });
    const jobs = new JobsService(api);
    await jobs.load();
    render(JobsPage, { jobs, now: NOW });
    const rows = screen.getAllByTestId('job-row');
    expect(rows.map((row) => row.getAttribute('data-job-id'))).toEqual(['job-9', 'job-3']);
    expect(within(rows[0]!).getByText('60% done')).toBeInTheDocument();
    expect(rows[1]).toHaveTextContent('unable to connect to PostgreSQL on db1:5432');
    expect(rows[1]).toHaveTextContent('check pg1-host');
    expect(rows[1]).toHaveTextContent('1 min 40 s');
  });
});
