// The preload is transport only: it forwards the typed API between the sandboxed renderer and the
// main process and adds nothing. CommonJS because sandboxed preloads cannot be ES modules.
import electron = require('electron');

const { contextBridge, ipcRenderer } = electron;
type IpcRendererEvent = electron.IpcRendererEvent;

contextBridge.exposeInMainWorld('pgkeep', {
  call: (request: unknown): Promise<unknown> => ipcRenderer.invoke('pgkeep:call', request),
  onEvent: (listener: (event: unknown) => void): (() => void) => {
    const forward = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on('pgkeep:event', forward);
    return () => ipcRenderer.removeListener('pgkeep:event', forward);
  },
});
