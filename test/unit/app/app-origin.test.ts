import { describe, expect, it } from 'vitest';
import { isAppPageUrl, SECURE_WEB_PREFERENCES } from '../../../src-main/app/app-origin.js';
import { contentSecurityPolicy } from '../../../src-main/server/content.js';

describe('Electron window security settings', () => {
  it('treats only app://studio pages as the app', () => {
    expect(isAppPageUrl('app://studio/index.html')).toBe(true);
    expect(isAppPageUrl('app://studio/#/settings')).toBe(true);
    for (const url of ['app://studio.evil/index.html', 'app://evil/studio', 'https://studio/', 'file:///etc/passwd', 'app://user@studio/', 'not a url', '']) {
      expect(isAppPageUrl(url), url).toBe(false);
    }
  });

  it('runs the renderer isolated, sandboxed and without Node', () => {
    expect(SECURE_WEB_PREFERENCES).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
  });

  it('sends a strict Content-Security-Policy', () => {
    const csp = contentSecurityPolicy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect(csp).toContain("frame-ancestors 'none'");
  });
});
