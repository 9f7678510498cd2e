// Electron's main process: the only code that imports 'electron'. It owns the window
// and serves the same backend and contract as web mode (src-main/server).
import { app, BrowserWindow, dialog } from 'electron';
import { join } from 'node:path';
import { createBackend } from '../api/backend.js';
import { APP_NAME } from '../common/data-dir.js';
import { PROJECT_ROOT } from '../common/project-root.js';
import { serveContractOverIpc } from './ipc.js';
import { registerAppScheme, serveAppScheme } from './protocol.js';
import { APP_ORIGIN } from './app-origin.js';
import { hardenAllWebContents } from './security.js';

app.setName(APP_NAME);
registerAppScheme();
hardenAllWebContents();

// a second launch hands over to the first (its window comes forward) and starts nothing of its own:
// two backends on one library would sweep each other's temporary files
const primary = app.requestSingleInstanceLock();

async function start(): Promise<void> {
  await app.whenReady();
  const backend = createBackend({ dataDir: app.getPath('userData') });
  serveAppScheme(backend.library);

  const window = new BrowserWindow({
    width: 1280,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    title: APP_NAME,
    backgroundColor: '#14161a',
    show: false,
    // written out here, not spread from elsewhere, so a reviewer (and Electronegativity in CI) sees them
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
      disableBlinkFeatures: 'Auxclick',
      // Reviewed: the preload exposes one invoke function and one event channel through contextBridge;
      // every call is validated by the zod contract on this side, and the window is sandboxed and isolated.
      preload: join(PROJECT_ROOT, 'out', 'preload', 'index.cjs'), // eng-disable PRELOAD_JS_CHECK
    },
  });
  const stopIpc = serveContractOverIpc(backend, window);
  window.once('ready-to-show', () => window.show());
  app.on('second-instance', () => {
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  window.on('closed', () => {
    stopIpc();
    void backend.close();
  });
  await window.loadURL(`${APP_ORIGIN}/index.html`);
}

app.on('window-all-closed', () => app.quit());

if (!primary) app.quit();
else {
  start().catch((err: unknown) => {
    dialog.showErrorBox(`${APP_NAME} could not start`, err instanceof Error ? err.message : String(err));
    app.exit(1);
  });
}
