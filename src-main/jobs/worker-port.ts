// What a job's worker thread gets from the thread that started it: its input, a signal that a
// "cancel" message aborts, and a typed way to report back.
import { parentPort, workerData } from 'node:worker_threads';

export function workerPort<Input, Message>(): { input: Input; signal: AbortSignal; post(m: Message): void; close(): void } {
  const port = parentPort;
  if (!port) throw new Error('Internal: a job worker started outside a worker thread');
  const controller = new AbortController();
  port.on('message', (m: { type: string }) => {
    if (m.type === 'cancel') controller.abort();
  });
  return { input: workerData as Input, signal: controller.signal, post: (m) => port.postMessage(m), close: () => port.close() };
}
