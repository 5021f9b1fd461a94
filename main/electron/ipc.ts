import { ipcMain, webContents, type IpcMainInvokeEvent, type WebFrameMain } from 'electron';

import type { ServiceEvent } from '../../engine/service/api.js';
import { dispatch, type ServiceHandler } from '../../engine/service/dispatch.js';
import { APP_ORIGIN } from './app-protocol.js';

export const CALL_CHANNEL = 'pgkeep:call';
export const EVENT_CHANNEL = 'pgkeep:event';

/**
 * The one IPC contract: requests go through dispatch() (the zod-validated contract shared with
 * browser mode); a request from any frame but the app's own top-level page is refused.
 */
export function registerIpc(service: ServiceHandler & { subscribe(listener: (event: ServiceEvent) => void): () => void }): void {
  ipcMain.handle(CALL_CHANNEL, async (event: IpcMainInvokeEvent, raw: unknown) => {
    if (!isAppFrame(event.senderFrame)) throw new Error('refused: the request did not come from the pgkeep app');
    return dispatch(service, raw);
  });
  service.subscribe((event) => {
    for (const contents of webContents.getAllWebContents()) {
      if (isAppFrame(contents.mainFrame)) contents.send(EVENT_CHANNEL, event);
    }
  });
}

function isAppFrame(frame: WebFrameMain | null): boolean {
  return frame !== null && frame.parent === null && frame.url.startsWith(`${APP_ORIGIN}/`);
}
