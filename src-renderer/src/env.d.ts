/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { PreloadBridge } from '../../src-preload/contract/bridge.js';

declare global {
  interface Window {
    singleinsert?: PreloadBridge;
  }
}
