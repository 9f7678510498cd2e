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

/** A folder's entries, for picking a model file or folder on the machine the app runs on (web mode has no native dialog). */
export const folderListing = z.object({
  path: z.string(),
  /** null at the top of the file system. */
  parent: z.string().nullable(),
  entries: z.array(z.object({ name: z.string(), path: z.string(), kind: z.enum(['folder', 'file']), size: z.number() })),
  /** More entries than are listed. */
  truncated: z.boolean(),
});
export type FolderListing = z.infer<typeof folderListing>;

export const systemService = service(
  {
    doctor: method(z.object({}).strict(), doctorReport),
    /** Lists a folder (the home folder when no path is given): folders first, then files, hidden ones left out. */
    browse: method(z.object({ path: z.string().max(4096).optional() }).strict(), folderListing),
  },
  {},
);
