import type { DoctorReport } from '../../src-preload/contract/index.js';
import { APP_VERSION } from '../common/app-version.js';
import { findElectronBinary } from './electron-binary.js';
import { probeGpus } from './gpu-probe.js';
import { probeProviders } from './providers.js';
import { chooseDevice } from './device-choice.js';
import { probeAdapters } from './gpu-adapters.js';

export async function runDoctor(dataDir: string): Promise<DoctorReport> {
  const [gpu, providers] = await Promise.all([probeGpus(), probeProviders()]);
  const device = await chooseDevice('auto');
  const electron = findElectronBinary();
  return {
    app: {
      version: APP_VERSION,
      dataDir,
      node: process.versions.node,
      electron: process.versions.electron ?? null,
      platform: process.platform,
      arch: process.arch,
    },
    gpu,
    adapters: probeAdapters(),
    providers,
    device,
    electronBinary: { installed: electron.installed, detail: electron.detail },
  };
}
