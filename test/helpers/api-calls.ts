// Calling a backend the way a transport does (through its dispatcher), for integration tests.
import type { Backend } from '../../src-main/api/backend.js';

/** A call through the dispatcher: its value, or a thrown Error with the API's message. */
export const callOf =
  (backend: () => Backend) =>
  async (service: string, method: string, input: unknown): Promise<never> => {
    const r = await backend().dispatch({ service, method, input });
    if (!r.ok) throw new Error(`${service}.${method}: ${r.error.message}`);
    return r.value as never;
  };

/** Waits until `what` holds (polling every 20 ms), or fails after `ms`. */
export async function until(what: () => boolean, ms = 200_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
