// Before each GPU test file: skip it (saying why) where WebGPU cannot start; otherwise forbid any CPU
// fallback and have every session record where its nodes ran, and fail the file on any compute node
// that ran elsewhere than on the WebGPU provider (shape arithmetic excepted; see placement.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, expect } from 'vitest';
import { offProvider, readPlacements } from '../../src-main/graph/runtime/placement.js';
import { PLACEMENT_ENV, REQUIRE_PROVIDER_ENV } from '../../src-main/graph/runtime/session.js';
import { SKIP_NOTE, webgpuStatus } from './gpu-status.js';

const status = await webgpuStatus();
const dir = mkdtempSync(join(tmpdir(), 'si-placement-'));
process.env[PLACEMENT_ENV] = dir;
process.env[REQUIRE_PROVIDER_ENV] = '1';
process.env.SINGLEINSERT_TEST_PROVIDER = 'webgpu';

beforeEach((ctx) => {
  if (!status.usable) ctx.skip(SKIP_NOTE(status.detail));
});

afterAll(() => {
  try {
    if (!status.usable) return;
    const placements = readPlacements(dir, 'webgpu-');
    const elsewhere = offProvider(placements, 'WebGpuExecutionProvider').map((p) => `${p.op} ${p.node} on ${p.provider}`);
    expect(elsewhere, `compute nodes not on WebGPU (of ${placements.length} profiled)`).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
