// What a checkpointed step's activations occupy at its worst moment, worked out from the runs it will make:
// the step's values (checkpoints, residuals, gradients) as its buffer pool holds them, plus the intermediates
// of the session running then. The memory plan's first estimate is a formula, made before anything is built;
// this one follows the real schedule, so the run's log can set a figure that bounds the measured peak.
import { BYTES_PER_ELEMENT, type DType } from '../dtype.js';
import type { Graph } from '../graph.js';
import type { Tensor } from '../ir.js';
import { numel } from '../shape.js';

const bytes = (t: { dtype: DType; shape: readonly number[] }) => numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];

/**
 * The most bytes a graph's intermediates hold at once when its nodes run in order, each output made by
 * its node and freed after its last reader (what onnxruntime's sequential executor does without an arena).
 * The graph's inputs and outputs are not counted: they live in the caller's buffers.
 */
export function intermediatePeak(g: Graph): number {
  const external = new Set<Tensor>([...g.inputs.map((i) => i.tensor), ...g.initializers.map((i) => i.tensor)]);
  // an output is named by an Identity (Graph.output) that onnxruntime folds away: its input is written to the caller's buffer
  const outputs = new Set(g.outputs.flatMap((o) => [o.tensor, ...(o.tensor.producer?.type === 'Identity' ? [o.tensor.producer.inputs[0]!] : [])]));
  const last = new Map<Tensor, number>();
  g.nodes.forEach((n, i) => {
    for (const t of n.inputs) if (t) last.set(t, i);
  });
  let live = 0;
  let peak = 0;
  g.nodes.forEach((n, i) => {
    for (const o of n.outputs) if (!outputs.has(o) && !external.has(o)) live += bytes(o);
    peak = Math.max(peak, live);
    for (const t of new Set(n.inputs)) if (t && !external.has(t) && !outputs.has(t) && last.get(t) === i) live -= bytes(t);
  });
  return peak;
}

export interface TimelineRun {
  /** Step values it reads (by name), and whether each is a step value at all ('value'; others are weights, params, data). */
  inputs: ReadonlyArray<{ name: string; from: string }>;
  outputs: ReadonlyArray<{ name: string; dtype: DType; shape: readonly number[] }>;
  /** Its session's intermediates at most (intermediatePeak). */
  internal: number;
}

/**
 * The worst moment of one micro-batch: the buffer pool (reused by type and size, never shrunk while the
 * step runs) plus the running session's intermediates. Values `persistent` names (parameter gradients,
 * counted with the trainable state) are left out.
 */
export function stepActivationPeak(runs: readonly TimelineRun[], lastUse: ReadonlyMap<string, number>, persistent: (name: string) => boolean): number {
  const free = new Map<string, number>();
  const sizes = new Map<string, { key: string; bytes: number }>();
  let held = 0;
  let peak = 0;
  const release = (s: { key: string } | undefined) => s && free.set(s.key, (free.get(s.key) ?? 0) + 1);
  runs.forEach((r, i) => {
    const replaced: Array<{ key: string }> = [];
    for (const o of r.outputs) {
      if (persistent(o.name)) continue;
      const size = bytes(o);
      const key = `${o.dtype}:${size}`;
      const spare = free.get(key) ?? 0;
      if (spare > 0) free.set(key, spare - 1);
      else held += size;
      // a value written again (a gradient accumulated) gives its old buffer back after the run
      const old = sizes.get(o.name);
      if (old) replaced.push(old);
      sizes.set(o.name, { key, bytes: size });
    }
    peak = Math.max(peak, held + r.internal);
    for (const old of replaced) release(old);
    for (const { name, from } of r.inputs) {
      if (from !== 'value' || lastUse.get(name) !== i) continue;
      release(sizes.get(name));
      sizes.delete(name);
    }
  });
  return peak;
}
