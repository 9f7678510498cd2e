import { protocol } from 'electron';
import { toApiError } from '../common/app-error.js';
import type { Library } from '../library/library.js';
import { contentSecurityPolicy, readRendererAsset, readStoreFile } from '../server/content.js';
import { APP_HOST, APP_SCHEME } from './app-origin.js';

/** Must run before app 'ready': app:// behaves like https (secure, standard, fetch allowed). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** app://studio/… serves the built renderer, app://studio/files/<sha256> files from the library store. */
export function serveAppScheme(library: Library): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return new Response('Not found', { status: 404 });
    try {
      const { body, mime } = url.pathname.startsWith('/files/')
        ? await readStoreFile(library, url.pathname.slice('/files/'.length))
        : await readRendererAsset(url.pathname);
      return new Response(new Uint8Array(body), {
        headers: {
          'Content-Type': mime,
          'Content-Security-Policy': contentSecurityPolicy(),
          'X-Content-Type-Options': 'nosniff',
        },
      });
    } catch (err) {
      const error = toApiError(err);
      return new Response(error.message, { status: error.code === 'not-found' ? 404 : 500 });
    }
  });
}
