// What a provider needs on this machine before onnxruntime is even asked: asking without it only makes the
// native side print its own warnings (Dawn's "Couldn't load Vulkan") before failing. Shared by sessions and
// the provider probe, so both say the same thing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';

/** Why `provider` cannot start here (one line a person can act on), or null when nothing is known to be missing. */
export function missingRequirement(provider: ExecutionProvider, ortBinaryDir: string): string | null {
  if (
    provider === 'cuda' &&
    !existsSync(join(ortBinaryDir, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'))
  ) {
    return 'CUDA provider not installed; on a connected machine with an NVIDIA driver and CUDA 12 run `npm run fetch:cuda`';
  }
  if (provider === 'webgpu' && process.platform === 'linux' && !vulkanLoaderPresent()) {
    return "no Vulkan loader (libvulkan.so.1) on this machine; WebGPU on Linux needs the GPU driver's Vulkan support";
  }
  return null;
}

/** Whether Linux's Vulkan loader is installed (where the dynamic linker looks for it). */
function vulkanLoaderPresent(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
    '/lib/x86_64-linux-gnu',
    '/lib64',
  ];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}
