// Where onnxruntime ran each node, read from the profiles sessions write under SINGLEINSERT_PLACEMENT_DIR
// (session.ts): the GPU tests fail on any compute node that a GPU session left to the CPU provider.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NodePlacement {
  node: string;
  op: string;
  provider: string;
  /**
   * Shape arithmetic, which providers may leave to the CPU: every input is an integer tensor, and so is every
   * output, or it is a handful of numbers (a scale computed from a size: SAM's Cast of an int64 scalar to float).
   */
  shapeOnly: boolean;
  profile: string;
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  args?: { op_name?: string; provider?: string; input_type_shape?: Array<Record<string, unknown>>; output_type_shape?: Array<Record<string, unknown>> };
}

const INTEGER_TYPES = new Set(['int64', 'int32', 'bool']);
const integerOnly = (values: Array<Record<string, unknown>> | undefined) =>
  (values ?? []).every((v) => Object.keys(v).every((type) => INTEGER_TYPES.has(type)));
const SMALL = 8;
const tiny = (values: Array<Record<string, unknown>> | undefined) =>
  (values ?? []).every((v) => Object.values(v).every((dims) => Array.isArray(dims) && dims.reduce((n: number, d: number) => n * d, 1) <= SMALL));

/** Each node of each profile in `dir` whose name starts with `prefix` (one provider's sessions), once per profile. */
export function readPlacements(dir: string, prefix = ''): NodePlacement[] {
  const found: NodePlacement[] = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.json'))) {
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
    const seen = new Set<string>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.args?.provider || !e.name?.endsWith('_kernel_time')) continue;
      const node = e.name.slice(0, -'_kernel_time'.length);
      if (seen.has(node)) continue;
      seen.add(node);
      found.push({
        node,
        op: e.args.op_name ?? '?',
        provider: e.args.provider,
        shapeOnly: integerOnly(e.args.input_type_shape) && (integerOnly(e.args.output_type_shape) || tiny(e.args.output_type_shape)),
        profile: file,
      });
    }
  }
  return found;
}

/** Compute nodes that ran elsewhere than `provider` (e.g. 'WebGpuExecutionProvider'), shape arithmetic excepted. */
export const offProvider = (placements: readonly NodePlacement[], provider: string): NodePlacement[] =>
  placements.filter((p) => p.provider !== provider && !p.shapeOnly);
