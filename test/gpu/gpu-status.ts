// Whether this machine can run the GPU project: the WebGPU provider must start and run a kernel (Mesa's
// lavapipe counts here: it exercises every device code path, slowly). Said once per run, with the reason.
import { probeProviders } from '../../src-main/system/providers.js';

export interface GpuStatus {
  usable: boolean;
  detail: string;
}

export async function webgpuStatus(): Promise<GpuStatus> {
  const webgpu = (await probeProviders()).find((p) => p.name === 'webgpu');
  if (!webgpu) return { usable: false, detail: 'this onnxruntime-node build has no WebGPU provider' };
  return { usable: webgpu.usable, detail: webgpu.detail };
}

export const SKIP_NOTE = (detail: string) =>
  `GPU project skipped: WebGPU is not usable here (${detail}); bash .ci/install-lavapipe installs a CPU Vulkan driver for it`;
