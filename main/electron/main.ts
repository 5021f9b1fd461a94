// The desktop app's main process: a thin adapter that hosts the engine's service for a sandboxed
// renderer. Everything it does besides wiring Electron is the same code browser mode runs.
import { join } from 'node:path';

import { app, BrowserWindow, session, shell } from 'electron';

import { setWorkerSpawner } from '../../engine/command/common/workers.js';
import { log } from '../../engine/log/logger.js';
import { PgkeepService } from '../../engine/service/service.js';
import { APP_ORIGIN, registerAppScheme, serveRenderer } from './app-protocol.js';
import { registerIpc } from './ipc.js';
import { utilityWorker } from './utility-worker.js';

app.enableSandbox();
registerAppScheme();
setWorkerSpawner(utilityWorker);
log.configure({ console: 'off', stderr: 'warn', file: 'off', timestamp: true, processId: 0 });

const service = new PgkeepService({ configArgs: process.argv.filter((arg) => arg.startsWith('--config')) });

function createWindow(): void {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    title: 'pgkeep',
    webPreferences: {
      preload: join(import.meta.dirname, 'preload.cjs'),
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  void window.loadURL(`${APP_ORIGIN}/index.html`);
}

app.on('web-contents-created', (_event, contents) => {
  // No navigation away from the app, no new windows (links open in the user's browser), no webviews.
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  serveRenderer(join(import.meta.dirname, '..', '..', 'renderer'));
  registerIpc(service);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
