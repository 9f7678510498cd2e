import type { DoctorReport } from '../../../src-preload/contract/index.js';
import { runDoctor } from '../../system/doctor.js';
import { type Command, JSON_OPTION } from '../command.js';

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

export function formatDoctor(r: DoctorReport): string[] {
  const lines = [
    `SingleInsert Studio ${r.app.version} — Node ${r.app.node}${r.app.electron ? `, Electron ${r.app.electron}` : ''}, ${r.app.platform}/${r.app.arch}`,
    `Library: ${r.app.dataDir}`,
    '',
    'GPU:',
  ];
  if (!r.gpu.nvidia) lines.push(`  ${r.gpu.reason ?? 'no NVIDIA driver'}`);
  else {
    lines.push(`  NVIDIA driver ${r.gpu.driverVersion ?? '?'} (probe: ${r.gpu.probe})`);
    for (const d of r.gpu.devices) lines.push(`  [${d.index}] ${d.name}: ${gib(d.totalBytes)} total, ${gib(d.freeBytes)} free`);
  }
  lines.push('', 'Vulkan adapters (what WebGPU runs on):');
  if (!r.adapters.adapters.length) lines.push(`  ${r.adapters.reason ?? 'none'}`);
  for (const a of r.adapters.adapters)
    lines.push(
      `  ${a.name}: ${a.type === 'cpu' ? 'software, on the CPU' : `${a.type} GPU`}, ${gib(a.deviceLocalBytes)}${a.freeBytes !== null ? ` (${gib(a.freeBytes)} free)` : ''}, ${a.float16 ? 'float16' : 'float32 only'}, buffers up to ${Math.round(a.maxStorageBufferRange / 2 ** 20)} MiB`,
    );
  lines.push('', 'onnxruntime execution providers:');
  for (const p of r.providers) lines.push(`  ${p.name.padEnd(7)}${p.usable ? 'usable  ' : 'no      '}${p.bundled ? '(bundled) ' : ''}${p.detail}`);
  lines.push('', `Default device: ${r.device.label} — ${r.device.reason}.`);
  lines.push('', `Electron binary: ${r.electronBinary.installed ? 'installed' : 'not installed'} — ${r.electronBinary.detail}`);
  return lines;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Report GPUs (via NVML), Vulkan adapters, onnxruntime execution providers, the device work runs on by default, and whether Electron is installed.',
  usage: 'doctor [--json]',
  options: { json: JSON_OPTION },
  examples: ['singleinsert doctor', 'singleinsert doctor --json'],
  run: async ({ values, global, io }) => {
    const report = await runDoctor(global.dataDir);
    if (values.json) io.out(JSON.stringify(report, null, 2));
    else formatDoctor(report).forEach((l) => io.out(l));
    return 0;
  },
};
