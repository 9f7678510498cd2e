import { app, type IpcMainInvokeEvent, session, type WebContents } from 'electron';

import { isAppPageUrl } from './app-origin.js';

/** Only the app's own page may talk to the main side. */
export function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return frame !== null && isAppPageUrl(frame.url) && frame === event.sender.mainFrame;
}

/**
 * Defaults every window and web view gets: no new windows, no navigation away from
 * the app, no <webview>, no permission prompts (camera, notifications…).
 */
export function hardenAllWebContents(): void {
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event, url) => {
      if (!isAppPageUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppPageUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
  });
}
