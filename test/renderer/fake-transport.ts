// A fake main side for the renderer's state classes: answers calls from a table of handlers, records
// them, and sends events to whoever listens (counting the listeners, so a spec sees one left behind).
import type { EventMessage, InvokeResponse } from '../../src-preload/contract/index.js';
import { type Transport, useTransport } from '../../src-renderer/src/lib/api.js';

type Handler = (input: unknown) => unknown;

export class FakeTransport implements Transport {
  readonly kind = 'web' as const;
  readonly hasToken = true;
  readonly calls: Array<{ call: string; input: unknown }> = [];
  private readonly listeners = new Set<(m: EventMessage) => void>();

  constructor(private readonly handlers: Record<string, Handler>) {
    useTransport(this);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  async invoke(service: string, method: string, input: unknown): Promise<InvokeResponse> {
    const call = `${service}.${method}`;
    this.calls.push({ call, input });
    const handler = this.handlers[call];
    if (!handler) return { ok: false, error: { code: 'internal', message: `the fake has no ${call}` } };
    try {
      return { ok: true, value: await handler(input) };
    } catch (err) {
      return { ok: false, error: { code: 'invalid-input', message: (err as Error).message } };
    }
  }

  onEvent(listener: (m: EventMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(service: string, event: string, payload: unknown): void {
    for (const l of this.listeners) l({ service, event, payload } as EventMessage);
  }

  callsOf(call: string): unknown[] {
    return this.calls.filter((c) => c.call === call).map((c) => c.input);
  }

  fileUrl(sha256: string): string {
    return `/files/${sha256}`;
  }

  exportUrl(name: string): string {
    return `/exports/${name}`;
  }

  async toImportSources(files: File[]) {
    return files.map((f) => ({ kind: 'upload' as const, uploadId: `up_${f.name}`, name: f.name }));
  }
}

/** Lets pending promise callbacks (a state class's refresh) run. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
