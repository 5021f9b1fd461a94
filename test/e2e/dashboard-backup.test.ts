import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from '../harness/browser.js';
import { TestStanza } from '../harness/stanza.js';
import { startUi, type UiProcess } from '../harness/ui-process.js';

/** Screenshots of each screen, kept as test artifacts (linked from the README). */
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');

/**
 * The desktop app's first slice end to end: Debian's chromium against `pgkeep ui` (browser
 * mode), backed by a real PostgreSQL 15 cluster and a real repository.
 */
describe('dashboard and "Back up now" in a real browser', () => {
  let stanza: TestStanza;
  let ui: UiProcess;
  let browser: Browser;
  let page: Page;
  let fullLabel: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    // gz and one worker make the incremental take a few seconds: long enough to watch and reload
    stanza = await TestStanza.withPgbench(10, { global: { 'compress-type': 'gz', 'process-max': 1 } });
    const full = await stanza.pgkeep(['--output=json', '--type=full', 'backup']);
    fullLabel = (JSON.parse(full.stdout.trim().split('\n').at(-1)!) as { label: string }).label;
    ui = await startUi(stanza.configPath);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
    await stanza?.destroy();
  });

  it('opens with the one-time token and lists the stanza with its existing backup', async () => {
    await page.goto(ui.url);
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar
    const card = page
      .getByTestId('stanza-card')
      .filter({ has: page.locator('[data-stanza="main"]') })
      .or(page.locator('[data-testid="stanza-card"][data-stanza="main"]'));
    await card.first().waitFor();
    await expect.poll(async () => page.getByTestId('stanza-card').count()).toBe(1);
    expect(await page.getByTestId('last-backup').textContent()).toContain('full');
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png') });

    // the token works once: a second browser with the same link is refused
    const other = await browser.newPage();
    const response = await other.goto(ui.url);
    expect(response?.status()).toBe(403);
    await other.close();
  });

  it('shows the stanza page with its backups', async () => {
    await page.getByTestId('nav-stanza').first().click();
    await page.getByTestId('backup-table').waitFor();
    expect(await page.locator(`[data-testid="backup-row"][data-label="${fullLabel}"]`).count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'stanza.png') });
  });

  it('"Back up now" runs a real incremental backup whose progress advances, survives a reload, and lists the new backup', async () => {
    await stanza.cluster.query('UPDATE pgbench_accounts SET abalance = abalance + 1'); // most pages change
    await page.getByTestId('backup-type-incr').check();
    await page.getByTestId('backup-start').click();
    const panel = page.getByTestId('job-panel');
    await panel.waitFor();
    expect(await panel.getAttribute('data-state')).toBe('running');

    // the bar advances: two different readings while the job runs
    const readings: number[] = [];
    const deadline = Date.now() + 60_000;
    while (readings.length < 2 && Date.now() < deadline) {
      const value = await page
        .getByTestId('job-progress')
        .getAttribute('aria-valuenow')
        .catch(() => null);
      if (value !== null && Number(value) > 0 && Number(value) < 100 && !readings.includes(Number(value)))
        readings.push(Number(value));
      await page.waitForTimeout(100);
    }
    expect(readings.length).toBe(2);
    expect(readings[1]).toBeGreaterThan(readings[0]!);
    await page.screenshot({ path: join(SCREENSHOTS, 'backup-running.png') });

    // a reload mid-backup re-attaches to the running job
    await page.reload();
    await page.getByTestId('job-panel').waitFor();
    const state = await page.getByTestId('job-panel').getAttribute('data-state');
    expect(['running', 'succeeded']).toContain(state); // running unless it ended during the reload
    if (state === 'running') expect(await page.getByTestId('backup-start').isDisabled()).toBe(true);

    await page.locator('[data-testid="job-result"][data-state="succeeded"]').waitFor({ timeout: 120_000 });
    const label = (await page.getByTestId('job-backup-label').textContent())!.trim();
    expect(label).toMatch(new RegExp(`^${fullLabel}_\\d{8}-\\d{6}I$`));
    await page.screenshot({ path: join(SCREENSHOTS, 'backup-done.png') });
    await page.locator(`[data-testid="backup-row"][data-label="${label}"]`).waitFor();

    const info = JSON.parse((await stanza.pgkeep(['--output=json', 'info'])).stdout) as [
      { backup: { label: string; type: string }[] },
    ];
    expect(info[0].backup.map((backup) => backup.label)).toEqual([fullLabel, label]);
  });
});
