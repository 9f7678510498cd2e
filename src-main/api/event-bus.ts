import type { EventPayload } from '../../src-preload/contract/define.js';
import type { Contract, EventMessage, ServiceName } from '../../src-preload/contract/index.js';

type Listener = (message: EventMessage) => void;

/** Typed events out of the main side; each transport forwards every message to its renderers. */
export class EventBus {
  private readonly listeners = new Set<Listener>();

  emit<S extends ServiceName, E extends keyof Contract[S]['events'] & string>(service: S, event: E, payload: EventPayload<Contract[S], E>): void {
    const message: EventMessage = { service, event, payload };
    for (const listener of this.listeners) listener(message);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
