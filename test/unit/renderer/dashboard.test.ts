import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';

import type { StanzaSummary } from '../../../engine/service/api.js';
import Dashboard from '../../../renderer/src/pages/Dashboard.svelte';
import { JobsService } from '../../../renderer/src/lib/state/jobs.svelte.js';
import { StanzasService } from '../../../renderer/src/lib/state/stanzas.svelte.js';
import { FakeApi, ok } from './fake-api.js';
import { NOW, NOW_S, backup, job, stanza } from './fixtures.js';

async function renderDashboard(api: FakeApi) {
  const stanzas = new StanzasService(api);
  const jobs = new JobsService(api);
  await stanzas.refresh();
  await jobs.load();
  return render(Dashboard, { stanzas, jobs, now: NOW });
}

const withStanzas = (...list: StanzaSummary[]) => new FakeApi({ listStanzas: () => ok(list), listJobs: () => ok([]) });

describe('dashboard', () => {
  it('explains what a stanza is and what to do when there is none', async () => {
    await renderDashboard(withStanzas());
    const empty = screen.getByTestId('empty-state');
    expect(empty).toHaveTextContent('No stanzas configured yet');
    expect(empty).toHaveTextContent('A stanza is one PostgreSQL cluster');
    expect(empty).toHaveTextContent('/etc/pgkeep/pgkeep.conf');
    expect(empty).toHaveTextContent('--config=/etc/pgbackrest/pgbackrest.conf');
    expect(empty).toHaveTextContent('pgkeep --stanza=main stanza-create');
    expect(screen.queryByTestId('stanza-card')).toBeNull();
  });

  it('shows a healthy stanza: badge, last backup, archive, size and a timeline of its backups', async () => {
    await renderDashboard(withStanzas(stanza()));
    const card = screen.getByTestId('stanza-card');
    expect(card).toHaveAttribute('data-stanza', 'main');
    expect(card).toHaveAttribute('data-health', 'ok');
    const view = within(card);
    expect(view.getByTestId('stanza-health')).toHaveTextContent('OK');
    expect(view.getByTestId('last-backup')).toHaveTextContent('2 h ago · incremental');
    expect(view.getByTestId('archive-newest')).toHaveTextContent('000000010000000000000042 2 min ago');
    expect(view.getByTestId('archive-status')).toHaveTextContent('66 archived, 0 failed');
    expect(view.getByTestId('archive-status')).not.toHaveClass('failing');
    expect(view.getByTestId('repo-size')).toHaveTextContent('305 MB in 3 backups');
    expect(view.getByRole('link', { name: 'main' })).toHaveAttribute('href', '#/stanza/main');

    const marks = view.getAllByTestId('timeline-mark');
    expect(marks.map((mark) => mark.getAttribute('data-type'))).toEqual(['full', 'diff', 'incr']);
    const xs = marks.map((mark) => Number(mark.getAttribute('x')));
    expect(xs[0]).toBeLessThan(xs[1]!);
    expect(xs[1]).toBeLessThan(xs[2]!);
    const band = view.getByTestId('timeline-recoverable');
    // The window starts at the full backup and ends two minutes before now.
    expect(Number(band.getAttribute('x'))).toBeCloseTo(xs[0]! + 1.5, 5);
    expect(Number(band.getAttribute('x')) + Number(band.getAttribute('width'))).toBeGreaterThan(xs[2]!);
    expect(view.getByRole('img')).toHaveAccessibleName(/^3 backups; recoverable from /);

    expect(view.queryAllByTestId('problem')).toHaveLength(0);
    expect(screen.getByTestId('dashboard-summary')).toHaveTextContent('1 stanza: all healthy');
  });

  it('says a backup is overdue, in words with what to do', async () => {
    const full = backup('full', 9 * 86_400);
    const overdue = stanza({
      backups: [full],
      health: 'warning',
      problems: [
        {
          kind: 'backup-overdue',
          severity: 'warning',
          message: 'the last backup finished 9 days ago',
          hint: 'take a backup now, and check that the scheduled backup job runs',
        },
      ],
    });
    await renderDashboard(withStanzas(overdue));
    const card = screen.getByTestId('stanza-card');
    expect(card).toHaveAttribute('data-health', 'warning');
    expect(within(card).getByTestId('stanza-health')).toHaveTextContent('Warning');
    expect(within(card).getByTestId('last-backup')).toHaveTextContent('9 d ago · full');
    const problem = within(card).getByTestId('problem');
    expect(problem).toHaveAttribute('data-kind', 'backup-overdue');
    expect(problem).toHaveTextContent('the last backup finished 9 days ago');
    expect(problem).toHaveTextContent('take a backup now, and check that the scheduled backup job runs');
    expect(screen.getByTestId('dashboard-summary')).toHaveTextContent('1 stanza: 1 needs attention');
  });

  it('shows a failing archiver with its failure counts and the last failed segment', async () => {
    const failing = stanza({
      name: 'sales',
      health: 'error',
      archive: {
        maxWal: '000000010000000000000042',
        lastArchivedTime: NOW_S - 5400,
        archiver: {
          archivedCount: 1234,
          lastArchivedWal: '000000010000000000000042',
          lastArchivedTime: NOW_S - 5400,
          failedCount: 17,
          lastFailedWal: '000000010000000000000043',
          lastFailedTime: NOW_S - 60,
        },
      },
      problems: [
        {
          kind: 'archive-failing',
          severity: 'error',
          message: 'PostgreSQL failed to archive 000000010000000000000043 (17 failures)',
          hint: "look at PostgreSQL's log for archive_command errors; check the repository is writable",
        },
      ],
    });
    await renderDashboard(withStanzas(stanza(), failing));
    const cards = screen.getAllByTestId('stanza-card');
    // Problems first.
    expect(cards.map((card) => card.getAttribute('data-stanza'))).toEqual(['sales', 'main']);
    const card = within(cards[0]!);
    expect(card.getByTestId('stanza-health')).toHaveTextContent('Error');
    const archiver = card.getByTestId('archive-status');
    expect(archiver).toHaveTextContent('1,234 archived, 17 failed last failure 000000010000000000000043, 1 min ago');
    expect(archiver).toHaveClass('failing');
    expect(card.getByTestId('archive-newest')).toHaveTextContent('000000010000000000000042 1 h ago');
    const problem = card.getByTestId('problem');
    expect(problem).toHaveAttribute('data-kind', 'archive-failing');
    expect(problem).toHaveAttribute('data-severity', 'error');
    expect(problem).toHaveTextContent('PostgreSQL failed to archive 000000010000000000000043 (17 failures)');
    expect(problem).toHaveTextContent("look at PostgreSQL's log for archive_command errors");
    expect(screen.getByTestId('dashboard-summary')).toHaveTextContent('2 stanzas: 1 needs attention');
  });

  it('shows a stanza without backups as such, with no timeline marks', async () => {
    await renderDashboard(
      withStanzas(
        stanza({ backups: [], health: 'error', problems: [{ kind: 'no-backup', severity: 'error', message: 'no backup yet' }] }),
      ),
    );
    expect(screen.getByTestId('last-backup')).toHaveTextContent('none yet');
    expect(screen.queryAllByTestId('timeline-mark')).toHaveLength(0);
    expect(screen.queryByTestId('timeline-recoverable')).toBeNull();
    expect(screen.getByTestId('problem')).toHaveTextContent('no backup yet');
  });

  it('shows an error from the backend with its message, hint and code', async () => {
    const api = new FakeApi({
      listStanzas: () => ({
        ok: false,
        code: 41,
        name: 'FileOpen',
        message: "unable to open '/etc/pgkeep/pgkeep.conf': permission denied",
        hint: 'make the file readable by the user that runs pgkeep',
      }),
      listJobs: () => ok([]),
    });
    await renderDashboard(api);
    const box = screen.getByTestId('error-box');
    expect(box).toHaveAttribute('role', 'alert');
    expect(box).toHaveTextContent("unable to open '/etc/pgkeep/pgkeep.conf': permission denied");
    expect(screen.getByTestId('error-hint')).toHaveTextContent('make the file readable by the user that runs pgkeep');
    expect(screen.getByTestId('error-code')).toHaveTextContent('error 41 (FileOpen)');
    // An error is not "no stanzas": the empty state would send the DBA the wrong way.
    expect(screen.queryByTestId('empty-state')).toBeNull();
  });

  it('marks a stanza whose backup is running, with its progress', async () => {
    const running = job({ progress: { bytesDone: 400, bytesTotal: 1000, filesDone: 3, filesTotal: 10, rate: 100, eta: 6 } });
    const api = new FakeApi({
      listStanzas: () => ok([stanza({ runningJobId: 'job-1' })]),
      listJobs: () => ok([running]),
      getJob: () => ok(running),
    });
    await renderDashboard(api);
    expect(screen.getByTestId('stanza-running-job')).toHaveTextContent('incremental backup running: 40%');
  });
});
