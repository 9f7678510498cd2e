import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser.js';
import { startWebMode } from './web-mode-process.js';

export interface AppSession {
  page: Page;
  /** Console errors and page errors (CSP violations among them) seen so far. */
  problems: string[];
  close(): Promise<void>;
}

/** `npm start`'s web mode on a library folder, opened in Chromium with its token URL. */
export async function openApp(dataDir: string, viewport = { width: 1280, height: 860 }): Promise<AppSession> {
  const app = await startWebMode(dataDir);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(app.url);
    return {
      page,
      problems,
      close: async () => {
        await browser?.close();
        await app.stop();
      },
    };
  } catch (err) {
    await browser?.close();
    await app.stop();
    throw err;
  }
}
