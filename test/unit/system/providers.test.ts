import { describe, expect, it } from 'vitest';
import { probeProviders } from '../../../src-main/system/providers.js';

describe('execution provider probe', () => {
  it('runs a test kernel on the CPU provider and explains the others', async () => {
    const providers = await probeProviders();
    expect(providers.map((p) => p.name)).toEqual(['cpu', 'webgpu', 'cuda']);
    expect(providers[0]).toEqual({ name: 'cpu', bundled: true, usable: true, detail: 'ran a test kernel' });
    for (const p of providers.filter((x) => !x.usable)) expect(p.detail.length).toBeGreaterThan(10);
  });
});
