// Runs in the sandboxed preload: exposes the generic API channel, nothing else.
// Bundled to one CommonJS file (scripts/build-preload.js): a sandboxed preload may only require 'electron'.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { PreloadBridge } from './contract/bridge.js';
import { BRIDGE_KEY, CHANNELS } from './contract/bridge.js';
import type { EventMessage, InvokeResponse } from './contract/common.js';

const bridge: PreloadBridge = {
  invoke: (service, method, input) => ipcRenderer.invoke(CHANNELS.invoke, { service, method, input }) as Promise<InvokeResponse>,
  onEvent: (listener) => {
    const wrapped = (_event: Electron.IpcRendererEvent, message: EventMessage) => listener(message);
    ipcRenderer.on(CHANNELS.event, wrapped);
    return () => ipcRenderer.removeListener(CHANNELS.event, wrapped);
  },
  pathForFile: (file) => webUtils.getPathForFile(file),
};

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
