// The goldens scripts/reference/make_goldens.py wrote with PyTorch + diffusers, and the comparison every
// reference test uses: max |error| ≤ 1e-4 × the reference's max |value|.
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ExecutionProvider } from '../../src-preload/contract/common.js';
import type { Graph } from '../../src-main/graph/graph.js';
import { sessionForGraph } from '../../src-main/graph/runtime/session.js';
import { PROJECT_ROOT } from '../../src-main/common/project-root.js';
import { readSafetensorsHeader, readTensorAsFloat32, type SafetensorsFile } from '../../src-main/weights/safetensors.js';

export const REFERENCE_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'reference');
export const REFERENCE_MODEL = join(REFERENCE_DIR, 'tiny-sd');
const TOLERANCE = 1e-4;

let file: SafetensorsFile | undefined;
const goldens = () => (file ??= readSafetensorsHeader(join(REFERENCE_DIR, 'goldens.safetensors')));

export const golden = (name: string): Float32Array => readTensorAsFloat32(goldens(), name);

export function goldenShape(name: string): number[] {
  const entry = goldens().tensors.get(name);
  if (!entry) throw new Error(`no golden ${name}; rerun scripts/reference/make_goldens.py`);
  return [...entry.shape];
}

/** Fails with where and how far the largest difference is, relative to the reference's largest value. */
export function expectCloseToGolden(actual: ArrayLike<number>, name: string): void {
  const expected = golden(name);
  expect(actual.length, `${name}: element count`).toBe(expected.length);
  let worst = 0;
  let at = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= worst)) [worst, at] = [d, i];
  }
  const where = `${name}: max |error| ${worst.toExponential(2)} at ${at} (got ${actual[at]}, diffusers ${expected[at]}; max |value| ${scale.toPrecision(4)})`;
  expect(worst, where).toBeLessThanOrEqual(TOLERANCE * scale);
}

/** Runs a graph once with typed-array feeds (each input's shape read from the graph), its outputs as float32. */
export async function runGraph(
  g: Graph,
  feeds: Record<string, Float32Array | BigInt64Array>,
  options: { cacheDir: string; provider?: ExecutionProvider },
): Promise<Record<string, Float32Array>> {
  const session = await sessionForGraph(g, options);
  try {
    const hostFeeds = Object.fromEntries(
      Object.entries(feeds).map(([name, data]) => [
        name,
        {
          dtype: data instanceof BigInt64Array ? ('int64' as const) : ('float32' as const),
          shape: [...g.inputs.find((i) => i.tensor.name === name)!.tensor.shape],
          data,
        },
      ]),
    );
    const out = await session.run(hostFeeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}
