// The web-mode server as the audit meets it: a separate process (so a crash is an exit, not a thrown
// error in the audit), reached over loopback like a browser or a hostile local process would.
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { ApiError, ImportResult } from '../../src-preload/contract/index.js';
import { SERVER } from './outcomes.js';

const errorOf = (body: unknown): { error?: ApiError } => {
  const error = (body as { error?: ApiError }).error;
  return error ? { error } : {};
};

export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly origin: string,
    readonly token: string,
    private readonly output: { text: string },
  ) {}

  static start(dataDir: string): Promise<ServerProcess> {
    const child = spawn(process.execPath, [SERVER, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { text: '' };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start in 30 s:\n${output.text}`)), 30_000);
      const read = (d: Buffer) => {
        output.text += d.toString();
        const url = /(http:\/\/127\.0\.0\.1:\d+)\/\?token=([\w-]+)/.exec(output.text);
        if (url) {
          clearTimeout(timer);
          resolve(new ServerProcess(child, url[1]!, url[2]!, output));
        }
      };
      child.stdout!.on('data', read);
      child.stderr!.on('data', read);
      child.on('exit', () => reject(new Error(`the server exited while starting:\n${output.text}`)));
    });
  }

  get port(): number {
    return Number(new URL(this.origin).port);
  }

  get host(): string {
    return new URL(this.origin).host;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** What the server printed (its stderr shows an internal error's stack). */
  get log(): string {
    return this.output.text;
  }

  /** A contract call as the renderer makes it; `undefined` when no answer came in time, status 0 when the connection was dropped. */
  async invoke(service: string, method: string, input: unknown, timeoutMs = 15_000): Promise<{ status: number; body: unknown } | undefined> {
    return this.post('/api/invoke', JSON.stringify({ service, method, input }), { 'content-type': 'application/json' }, timeoutMs);
  }

  async post(path: string, body: string | Buffer, headers: Record<string, string>, timeoutMs = 15_000): Promise<{ status: number; body: unknown } | undefined> {
    try {
      const res = await fetch(`${this.origin}${path}`, {
        method: 'POST',
        headers: { 'x-singleinsert-token': this.token, host: this.host, ...headers },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // a plain-text status message
      }
      return { status: res.status, body: parsed };
    } catch (err) {
      // no answer in time is a hang; a connection the server closed on the request is status 0
      return (err as Error).name === 'TimeoutError' ? undefined : { status: 0, body: String((err as Error).cause ?? err) };
    }
  }

  /**
   * Imports an upload as the Library screen does: the photo's outcome (`ok`, or `failed` as the
   * contract says why), `hang` without an answer, `internal` when the answer is not a result.
   */
  async importUpload(
    uploadId: string,
    name: string,
    timeoutMs = 15_000,
  ): Promise<{ outcome: 'ok' | 'failed' | 'hang' | 'internal'; error?: ApiError; detail: string }> {
    const res = await this.invoke('images', 'import', { sources: [{ kind: 'upload', uploadId, name }] }, timeoutMs);
    if (!res) return { outcome: 'hang', detail: 'the import did not answer' };
    const result = (res.body as { value?: { results?: ImportResult[] } }).value?.results?.[0];
    if (!result)
      return {
        outcome: (res.body as { ok?: boolean }).ok === false ? 'failed' : 'internal',
        ...errorOf(res.body),
        detail: JSON.stringify(res.body).slice(0, 200),
      };
    return result.status === 'failed' ? { outcome: 'failed', error: result.error, detail: result.error.message } : { outcome: 'ok', detail: '' };
  }

  /** Does it still answer a plain call, within 5 s? */
  async answers(): Promise<boolean> {
    if (this.exited) return false;
    const res = await this.invoke('library', 'stats', {}, 5_000);
    return res?.status === 200 && (res.body as { ok?: boolean }).ok === true;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exit = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

export interface RawAnswer {
  /** The HTTP status, when the server answered with a status line. */
  status?: number;
  /** The first 4000 characters of the answer: status, headers and the start of the body. */
  head: string;
  timedOut: boolean;
}

/**
 * Sends bytes on a fresh connection (`after` more once the first answer comes, as a WebSocket client
 * sends frames after the handshake) and reads until the answer's headers, a close, or `waitMs`.
 */
export function rawExchange(port: number, bytes: Buffer, options: { after?: Buffer; waitMs?: number } = {}): Promise<RawAnswer> {
  const waitMs = options.waitMs ?? 10_000;
  return new Promise((resolve) => {
    let head = '';
    let sentAfter = false;
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const done = (timedOut: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: status ? Number(status[1]) : undefined, head: head.slice(0, 4000), timedOut });
    };
    const timer = setTimeout(() => done(head === ''), waitMs);
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      // a plain HTTP answer is complete enough once its headers are in (the connection may stay open)
      if (!options.after && head.includes('\r\n\r\n')) return void setTimeout(() => done(false), 50);
      if (options.after && !sentAfter) {
        sentAfter = true;
        socket.write(options.after, () => undefined);
      }
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}
