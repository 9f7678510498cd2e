// The provider a shared test runs its sessions on: the CPU, or WebGPU when the GPU project runs it (test/gpu/setup.ts).
import type { ExecutionProvider } from '../../src-preload/contract/common.js';

export const testProvider = (): ExecutionProvider => (process.env.SINGLEINSERT_TEST_PROVIDER === 'webgpu' ? 'webgpu' : 'cpu');
