import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

/**
 * The renderer bundle, for Electron (pgkeep://app/) and browser mode (http://127.0.0.1:port/).
 * The CSP is `script-src 'self'; style-src 'self'`: every script and style must be a file, so
 * Svelte's component CSS is emitted to .css files, nothing is inlined as a data: URL, and no
 * module-preload polyfill is injected. `base: './'` keeps every URL relative to index.html.
 * (No Node imports here: lint treats renderer/ as sandboxed; Node >= 20.11 has import.meta.dirname.)
 */
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [svelte({ configFile: false, emitCss: true, compilerOptions: { css: 'external' } })],
  build: {
    outDir: '../dist/renderer', // relative to root
    emptyOutDir: true,
    target: 'es2023',
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
});
