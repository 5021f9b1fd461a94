import type { Backend } from './backend.js';
import { createElectronBackend } from './electron-backend.js';
import { apiUrl, createWebSocketBackend } from './websocket-backend.js';

/**
 * The transport is chosen once, at start: the desktop app's preload exposes `window.pgkeep`;
 * anything else is browser mode, served by `pgkeep ui` with its API on the same host.
 */
export function selectBackend(win: Window): Backend {
  if (win.pgkeep !== undefined) return createElectronBackend(win.pgkeep);
  const backend = createWebSocketBackend({ url: apiUrl(win.location) });
  // Coming back online (laptop woke up, Wi-Fi back) is a good moment not to wait for the timer.
  win.addEventListener('online', () => backend.retryNow());
  return backend;
}
