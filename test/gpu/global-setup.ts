// Once per run of the GPU project: says whether it runs, and on what.
import { SKIP_NOTE, webgpuStatus } from './gpu-status.js';

export default async function setup(): Promise<void> {
  const status = await webgpuStatus();
  console.log(status.usable ? `GPU project: WebGPU ${status.detail}; every compute node must run on it.` : SKIP_NOTE(status.detail));
}
