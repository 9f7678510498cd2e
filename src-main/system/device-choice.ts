// Which provider runs the work when the user leaves the choice to the app (`auto`): CUDA where it starts,
// else WebGPU on a real GPU, else the CPU. A software rasteriser (llvmpipe) is never taken for a GPU, unless
// SINGLEINSERT_ALLOW_CPU_ADAPTER asks (the GPU tests on lavapipe). The reason is one line a person can read,
// and says what the CPU costs when it comes to that.
import type { DeviceChoice, ExecutionProvider, ProviderChoice, ProviderInfo } from '../../src-preload/contract/index.js';
import { PROVIDER_LABELS, RUNS_ON } from '../../src-preload/contract/index.js';
import { probeAdapters, webgpuAdapter } from './gpu-adapters.js';
import { probeGpus } from './gpu-probe.js';
import { probeProviders } from './providers.js';

export const ALLOW_CPU_ADAPTER_ENV = 'SINGLEINSERT_ALLOW_CPU_ADAPTER';

/** What the CPU costs, from docs/performance.md (SD 1.5 at 512², this project's 2-core development machine). */
const CPU_COST = 'on the CPU a 50-step 512² image takes about 12 minutes and the Faithful preset about 6.5 hours on 2 cores';

let probed: Promise<ProviderInfo[]> | undefined;
/** The providers are probed once a process (each probe starts a session on each). */
const providers = () => (probed ??= probeProviders());

/** `choice` resolved: a provider as it is; `auto` as Settings says (`preferred`), else by what starts here. */
export async function chooseDevice(choice: ProviderChoice, preferred: ProviderChoice = 'auto'): Promise<DeviceChoice> {
  if (choice !== 'auto') return { provider: choice, label: PROVIDER_LABELS[choice], reason: `${PROVIDER_LABELS[choice]} was chosen` };
  if (preferred !== 'auto') return { provider: preferred, label: PROVIDER_LABELS[preferred], reason: `${PROVIDER_LABELS[preferred]} is chosen in Settings` };
  const found = await providers();
  const usable = (name: ExecutionProvider) => found.find((p) => p.name === name && p.usable);
  if (usable('cuda')) {
    const gpu = (await probeGpus()).devices[0];
    return { provider: 'cuda', label: `CUDA on ${gpu?.name ?? 'the NVIDIA GPU'}`, reason: 'CUDA starts here, the fastest provider' };
  }
  const notes: string[] = [];
  if (usable('webgpu')) {
    const { adapters, reason } = probeAdapters();
    const best = webgpuAdapter(adapters, { allowCpu: false });
    if (best) {
      return { provider: 'webgpu', label: `WebGPU on ${best.name}`, reason: `WebGPU starts on a ${best.type} GPU` };
    }
    if (!adapters.length) return { provider: 'webgpu', label: 'WebGPU', reason: `WebGPU starts (${reason ?? 'its adapter is not known'})` };
    const software = adapters.map((a) => a.name).join(', ');
    if (process.env[ALLOW_CPU_ADAPTER_ENV])
      return { provider: 'webgpu', label: `WebGPU on ${software}`, reason: `${ALLOW_CPU_ADAPTER_ENV} allows a CPU adapter` };
    notes.push(`WebGPU's only adapter is ${software}, a software rasteriser on the CPU, slower than the CPU provider`);
  } else notes.push(`WebGPU: ${found.find((p) => p.name === 'webgpu')?.detail ?? 'not available'}`);
  const cuda = found.find((p) => p.name === 'cuda');
  if (cuda) notes.push(`CUDA: ${cuda.detail}`);
  return { provider: 'cpu', label: 'CPU', reason: `no usable GPU here: ${notes.join('; ')}; ${CPU_COST}` };
}

/** One line for a job's log: where it runs and why. */
export const describeDevice = (d: DeviceChoice) => `${RUNS_ON}${d.label}: ${d.reason}.`;
