import { z } from 'zod';
import { executionProvider } from './common.js';
import { method, service } from './define.js';

export const gpuDevice = z.object({
  index: z.number().int(),
  name: z.string(),
  totalBytes: z.number(),
  freeBytes: z.number(),
});

export const gpuReport = z.object({
  /** false when no NVIDIA driver could be loaded; `reason` says why. */
  nvidia: z.boolean(),
  driverVersion: z.string().nullable(),
  devices: z.array(gpuDevice),
  reason: z.string().nullable(),
  /** 'addon' (native NVML probe), 'nvidia-smi' (fallback) or 'none'. */
  probe: z.enum(['addon', 'nvidia-smi', 'none']),
});
export type GpuReport = z.infer<typeof gpuReport>;

export const providerInfo = z.object({
  name: executionProvider,
  /** Shipped in onnxruntime-node for this platform. */
  bundled: z.boolean(),
  /** A session could be created with this provider on this machine. */
  usable: z.boolean(),
  detail: z.string(),
});
export type ProviderInfo = z.infer<typeof providerInfo>;

export const doctorReport = z.object({
  app: z.object({
    version: z.string(),
    dataDir: z.string(),
    node: z.string(),
    electron: z.string().nullable(),
    platform: z.string(),
    arch: z.string(),
  }),
  gpu: gpuReport,
  providers: z.array(providerInfo),
  electronBinary: z.object({ installed: z.boolean(), detail: z.string() }),
});
export type DoctorReport = z.infer<typeof doctorReport>;

export const systemService = service(
  {
    doctor: method(z.object({}).strict(), doctorReport),
  },
  {},
);
