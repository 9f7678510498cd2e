import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { isAppPageUrl } from '../../../src-main/app/app-origin.js';
import { contentSecurityPolicy, metaContentSecurityPolicy } from '../../../src-main/server/content.js';

describe('Electron window security settings', () => {
  it('treats only app://studio pages as the app', () => {
    expect(isAppPageUrl('app://studio/index.html')).toBe(true);
    expect(isAppPageUrl('app://studio/#/settings')).toBe(true);
    for (const url of ['app://studio.evil/index.html', 'app://evil/studio', 'https://studio/', 'file:///etc/passwd', 'app://user@studio/', 'not a url', '']) {
      expect(isAppPageUrl(url), url).toBe(false);
    }
  });

  it('runs the renderer isolated, sandboxed and without Node, in a literal at the BrowserWindow call', () => {
    const main = readFileSync(new URL('../../../src-main/app/main.ts', import.meta.url), 'utf8');
    const call = /new BrowserWindow\(\{[\s\S]*?webPreferences: \{([\s\S]*?)\}/.exec(main)?.[1] ?? '';
    for (const setting of [
      'contextIsolation: true',
      'sandbox: true',
      'nodeIntegration: false',
      'webSecurity: true',
      'webviewTag: false',
      "disableBlinkFeatures: 'Auxclick'",
    ])
      expect(call).toContain(setting);
    expect(call).not.toContain('...');
  });

  it("the renderer's page carries the same policy as a <meta> (for when no header is there)", () => {
    const html = readFileSync(new URL('../../../src-renderer/index.html', import.meta.url), 'utf8');
    expect(/http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1]).toBe(metaContentSecurityPolicy());
  });

  it('sends a strict Content-Security-Policy', () => {
    const csp = contentSecurityPolicy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect(csp).toContain("frame-ancestors 'none'");
  });
});
