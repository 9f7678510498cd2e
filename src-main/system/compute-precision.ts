// The type the frozen models compute in on a provider: float16 on a GPU that computes in it (half the memory
// and bandwidth; the precision-sensitive parts stay float32 inside the graphs), float32 elsewhere. WebGPU's
// float16 needs the adapter's shader-f16, which the Vulkan probe reads; without it the work runs in float32
// and the job says so.
import type { ExecutionProvider } from '../../src-preload/contract/index.js';
import type { FloatDType } from '../graph/dtype.js';
import { probeAdapters, webgpuAdapter } from './gpu-adapters.js';

export interface ComputePrecision {
  dtype: FloatDType;
  /** Why, for a job's log ("float16: llvmpipe computes in it"). */
  reason: string;
}

const known = new Map<ExecutionProvider, ComputePrecision>();

/** The rule for `provider`, probed once a process (an adapter's float16 support does not change while it runs). */
export function computePrecision(provider: ExecutionProvider): ComputePrecision {
  let p = known.get(provider);
  if (!p) known.set(provider, (p = decide(provider)));
  return p;
}

function decide(provider: ExecutionProvider): ComputePrecision {
  if (provider === 'cpu') return { dtype: 'float32', reason: 'float32 on the CPU' };
  if (provider === 'cuda') return { dtype: 'float16', reason: 'float16 on CUDA, with normalisation, softmax and sums in float32' };
  const adapter = webgpuAdapter(probeAdapters().adapters, { allowCpu: true });
  if (!adapter) return { dtype: 'float32', reason: "float32: WebGPU's adapter is not known, so its float16 support is not either" };
  return adapter.float16
    ? { dtype: 'float16', reason: `float16 on ${adapter.name}, with normalisation, softmax and sums in float32` }
    : { dtype: 'float32', reason: `float32: ${adapter.name} has no float16 arithmetic (WebGPU's shader-f16), so memory use is doubled` };
}
