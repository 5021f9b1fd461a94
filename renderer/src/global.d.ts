import type { PreloadBridge } from './lib/backend/backend.js';

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge.exposeInMainWorld('pgkeep', ...)); absent in a browser. */
    pgkeep?: PreloadBridge;
  }
}

export {};
