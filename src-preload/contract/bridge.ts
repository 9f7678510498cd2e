import type { EventMessage, InvokeResponse } from './common.js';

/**
 * What the preload script puts on `window.singleinsert` in Electron. It carries
 * the generic channel only; the typed client is built on it in the renderer
 * (src-renderer/src/lib/api.ts), the same way as over web mode's HTTP.
 */
export interface PreloadBridge {
  invoke(service: string, method: string, input: unknown): Promise<InvokeResponse>;
  onEvent(listener: (message: EventMessage) => void): () => void;
  /** The file-system path of a dropped or picked File (Electron only knows it). */
  pathForFile(file: File): string;
}

export const BRIDGE_KEY = 'singleinsert';

/** Electron IPC channel names shared by preload and main. */
export const CHANNELS = {
  invoke: 'si:invoke',
  event: 'si:event',
} as const;
