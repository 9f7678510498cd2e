import { describe, expect, it } from 'vitest';
import { contract } from '../../../src-preload/contract/index.js';
import { createBackend } from '../../../src-main/api/backend.js';
import { createHandlers } from '../../../src-main/api/handlers.js';
import { tmpDir } from '../../helpers/tmp.js';

describe('API contract', () => {
  it('has a handler for every method, and no handler outside the contract', async () => {
    const backend = createBackend({ dataDir: tmpDir() });
    try {
      const handlers = createHandlers({ library: backend.library, masks: {} as never, jobs: {} as never, uploads: backend.uploads, events: backend.events, training: backend.training });
      for (const [service, def] of Object.entries(contract)) {
        const serviceHandlers = handlers[service as keyof typeof handlers] as Record<string, unknown>;
        expect(serviceHandlers, `handlers for service ${service}`).toBeDefined();
        expect(Object.keys(serviceHandlers).sort(), `methods of ${service}`).toEqual(Object.keys(def.methods).sort());
        for (const method of Object.keys(def.methods)) expect(typeof serviceHandlers[method], `${service}.${method}`).toBe('function');
      }
      expect(Object.keys(handlers).sort()).toEqual(Object.keys(contract).sort());
    } finally {
      await backend.close();
    }
  });

  it('names every event onX and gives every method both schemas', () => {
    for (const [service, def] of Object.entries(contract)) {
      for (const event of Object.keys(def.events)) expect(event, `${service} event`).toMatch(/^on[A-Z]/);
      for (const [name, m] of Object.entries(def.methods)) {
        expect(m.input, `${service}.${name} input`).toBeDefined();
        expect(m.output, `${service}.${name} output`).toBeDefined();
      }
    }
  });
});
