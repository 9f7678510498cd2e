// The renderer's only way to the main side: a typed client of the contract over
// Electron's preload bridge or, in web mode, loopback HTTP + WebSocket.
import type { ApiClient, ApiError, Contract, EventMessage, InvokeResponse, ServiceName } from '../../../src-preload/contract/index.js';
import type { EventPayload } from '../../../src-preload/contract/define.js';
import { MAX_PHOTO_BYTES } from '../../../src-preload/contract/images.js';

export class ApiCallError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

/** How calls and events travel: Electron's bridge, web mode's HTTP + WebSocket, or a unit spec's fake. */
export interface Transport {
  kind: 'electron' | 'web';
  invoke(service: string, method: string, input: unknown): Promise<InvokeResponse>;
  onEvent(listener: (message: EventMessage) => void): () => void;
  /** URL of a file in the library store, usable in <img src>. */
  fileUrl(sha256: string): string;
  /** A download of a file in the library's exports folder ("a.safetensors", "a-diffusers/b.safetensors"), where the page cannot write to a folder itself (web mode); null in Electron. */
  exportUrl(name: string): string | null;
  /** false when this page has no access token (web mode): the app shows only how to get back in. */
  readonly hasToken: boolean;
  /** Turns picked or dropped files into import sources (paths in Electron, uploads in web mode). */
  toImportSources(files: File[]): Promise<Array<{ kind: 'path'; path: string } | { kind: 'upload'; uploadId: string; name: string }>>;
}

function electronTransport(): Transport | undefined {
  const bridge = window.singleinsert;
  if (!bridge) return undefined;
  return {
    kind: 'electron',
    hasToken: true,
    invoke: (s, m, i) => bridge.invoke(s, m, i),
    onEvent: (l) => bridge.onEvent(l),
    fileUrl: (sha) => `/files/${sha}`,
    exportUrl: () => null,
    toImportSources: async (files) => files.map((f) => ({ kind: 'path' as const, path: bridge.pathForFile(f) })),
  };
}

const TOKEN_KEY = 'singleinsert.token';
/** What a tab without the token is told (it is kept for the tab only, and taken out of the address bar). */
export const NO_TOKEN =
  'This page has no access token. Open the address SingleInsert Studio printed in its terminal (it ends with ?token=…), ' +
  'or stop it and run `npm run start:web` for a new one.';

function webTransport(): Transport {
  // The token arrives once in the URL the server printed; keep it for this tab and take it out of the address bar.
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url);
  }
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  const headers = { 'x-singleinsert-token': token };
  const listeners = new Set<(m: EventMessage) => void>();
  let socket: WebSocket | undefined;
  const connect = () => {
    if (!token) return; // nothing to listen to without access
    socket = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/api/events?token=${encodeURIComponent(token)}`);
    socket.onmessage = (e) => {
      const message = JSON.parse(String(e.data)) as EventMessage;
      for (const l of listeners) l(message);
    };
    socket.onclose = () => setTimeout(connect, 1000);
  };
  connect();
  const post = async (path: string, body: BodyInit, contentType: string) => {
    const res = await fetch(path, { method: 'POST', headers: { ...headers, 'content-type': contentType }, body });
    if (res.status === 401) {
      denied();
      throw new ApiCallError({ code: 'unavailable', message: NO_TOKEN });
    }
    return res;
  };
  return {
    kind: 'web',
    hasToken: token !== '',
    invoke: async (service, method, input) => (await post('/api/invoke', JSON.stringify({ service, method, input }), 'application/json')).json(),
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    fileUrl: (sha) => `/files/${sha}?token=${encodeURIComponent(token)}`,
    exportUrl: (name) => `/exports/${name.split('/').map(encodeURIComponent).join('/')}?token=${encodeURIComponent(token)}`,
    toImportSources: (files) =>
      Promise.all(
        files.map(async (file) => {
          if (file.size > MAX_PHOTO_BYTES)
            throw new ApiCallError({
              code: 'too-large',
              message: `${file.name} is ${Math.round(file.size / 1024 / 1024)} MB; files up to ${MAX_PHOTO_BYTES / 1024 / 1024} MB can be imported.`,
            });
          const res = await post('/api/upload', file, 'application/octet-stream');
          const body = (await res.json()) as { uploadId?: string; error?: ApiError };
          if (!body.uploadId) throw new ApiCallError(body.error ?? { code: 'internal', message: `Upload of ${file.name} failed.` });
          return { kind: 'upload' as const, uploadId: body.uploadId, name: file.name };
        }),
      ),
  };
}

const deniedListeners = new Set<() => void>();
const denied = () => {
  for (const l of deniedListeners) l();
};

/** The main side refused this page's token (a server restarted with a new one): the app shows the sign-in help. */
export function onAccessDenied(listener: () => void): () => void {
  deniedListeners.add(listener);
  return () => deniedListeners.delete(listener);
}

/** Whether this page holds an access token at all (Electron always does). */
export const hasToken = () => current().hasToken;

let transport: Transport | undefined;
/** Chosen on first use (not at import), so a unit spec can put its own in first. */
const current = (): Transport => (transport ??= electronTransport() ?? webTransport());

/** Replaces the transport: unit specs of the state classes talk to a fake main side through this. */
export function useTransport(fake: Transport): void {
  transport = fake;
}

/** client.library.list({}) etc.: typed from the contract, checked on the main side. */
export const api: ApiClient = new Proxy({} as ApiClient, {
  get: (_, service: string) =>
    new Proxy(
      {},
      {
        get: (__, method: string) => async (input: unknown) => {
          const response = await current().invoke(service, method, input ?? {});
          if (!response.ok) throw new ApiCallError(response.error);
          return response.value;
        },
      },
    ),
});

export function onEvent<S extends ServiceName, E extends keyof Contract[S]['events'] & string>(
  service: S,
  event: E,
  listener: (payload: EventPayload<Contract[S], E>) => void,
): () => void {
  return current().onEvent((m) => {
    if (m.service === service && m.event === event) listener(m.payload as EventPayload<Contract[S], E>);
  });
}

export const fileUrl = (sha256: string) => current().fileUrl(sha256);
export const exportUrl = (name: string) => current().exportUrl(name);
export const toImportSources = (files: File[]) => current().toImportSources(files);

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
