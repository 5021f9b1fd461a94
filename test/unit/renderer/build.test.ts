// @vitest-environment node
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

/**
 * The production build, checked against the renderer's CSP (`script-src 'self'; style-src 'self'`,
 * no 'unsafe-inline', no 'unsafe-eval'): scripts and styles only as files next to index.html.
 */
describe('renderer build', () => {
  let out: string;
  let html: string;
  let files: string[];

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'pgkeep-renderer-'));
    await build({
      configFile: join(root, 'renderer', 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir: out, emptyOutDir: true },
    });
    html = await readFile(join(out, 'index.html'), 'utf8');
    files = (await readdir(out, { recursive: true })).map(String);
  }, 60_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('has no inline script, style or style attribute in index.html', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\btype="module"/);
      expect(attributes).toMatch(/\bsrc="\.\/assets\/[^"]+\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).toMatch(/<link rel="stylesheet"[^>]* href="\.\/assets\/[^"]+\.css"/);
  });

  it('loads only relative files that exist (works under pgkeep://app/ and http://127.0.0.1:port/)', () => {
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) {
      expect(url).toMatch(/^\.\//);
      expect(files).toContain(url.slice(2));
    }
  });

  it("emits Svelte's component styles to a .css file, and scripts that need no eval or inline styles", async () => {
    const css = files.filter((name) => name.endsWith('.css'));
    const js = files.filter((name) => name.endsWith('.js'));
    expect(css).toHaveLength(1);
    const styles = await readFile(join(out, css[0]!), 'utf8');
    expect(styles).toMatch(/\.badge\.svelte-[a-z0-9]+/); // a component's scoped style
    expect(styles).toMatch(/--accent:/); // app.css
    expect(styles).not.toMatch(/url\(\s*["']?data:/);
    for (const name of js) {
      const code = await readFile(join(out, name), 'utf8');
      expect(code).not.toMatch(/new Function\(|\beval\(/);
      expect(code).not.toMatch(/setAttribute\(\s*[`'"]style[`'"]/); // style attributes would need 'unsafe-inline'
      expect(code).not.toMatch(/ZodError/); // the renderer imports only types from the service API
    }
  });
});
