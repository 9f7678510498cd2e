import { type BrowserWindow, ipcMain } from 'electron';
import { CHANNELS } from '../../src-preload/contract/bridge.js';
import type { Backend } from '../api/backend.js';
import { isTrustedSender } from './security.js';

/** The Electron transport of the contract: one invoke channel, one event channel, same dispatcher as web mode. */
export function serveContractOverIpc(backend: Backend, window: BrowserWindow): () => void {
  ipcMain.handle(CHANNELS.invoke, (event, request: unknown) => {
    if (!isTrustedSender(event)) {
      return { ok: false, error: { code: 'invalid-input', message: 'Request refused: it did not come from the app window.' } };
    }
    return backend.dispatch(request);
  });
  const unsubscribe = backend.events.subscribe((message) => {
    if (!window.isDestroyed()) window.webContents.send(CHANNELS.event, message);
  });
  return () => {
    ipcMain.removeHandler(CHANNELS.invoke);
    unsubscribe();
  };
}
