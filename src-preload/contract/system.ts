import { z } from 'zod';
import { executionProvider, providerChoice } from './common.js';

/** A Vulkan physical device: what WebGPU picks from on Linux and Windows (native/gpu-probe/src/vulkan_probe.c). */
export const gpuAdapter = z.object({
  name: z.string(),
  vendorId: z.number(),
  /** 'cpu' is a software rasteriser (llvmpipe, SwiftShader): never chosen by default. */
  type: z.enum(['discrete', 'integrated', 'virtual', 'cpu', 'other']),
  apiVersion: z.string(),
  /** The largest storage buffer a shader may bind (WebGPU's maxStorageBufferBindingSize cannot exceed it). */
  maxStorageBufferRange: z.number(),
  deviceLocalBytes: z.number(),
  /** Device-local memory free now by the driver's budget (VK_EXT_memory_budget); null where the driver does not say. */
  freeBytes: z.number().nullable(),
  /** Computes in float16 (WebGPU's shader-f16): half-precision weights and activations are used only then. */
  float16: z.boolean(),
});
export type GpuAdapter = z.infer<typeof gpuAdapter>;

export const adapterReport = z.object({ adapters: z.array(gpuAdapter), reason: z.string().nullable() });
export type AdapterReport = z.infer<typeof adapterReport>;

/** Which provider `auto` runs on here, and why (with what a fallback to the CPU costs). */
export const deviceChoice = z.object({ provider: executionProvider, label: z.string(), reason: z.string() });
export type DeviceChoice = z.infer<typeof deviceChoice>;
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
  adapters: adapterReport,
  providers: z.array(providerInfo),
  /** What `auto` picks on this machine. */
  device: deviceChoice,
  electronBinary: z.object({ installed: z.boolean(), detail: z.string() }),
});
export type DoctorReport = z.infer<typeof doctorReport>;

/** What the user sets once for the app: where runs, drawings and masks go when they leave the device to the app. */
export const preferences = z
  .object({
    /** `auto`: the best usable GPU, else the CPU; a provider here is used instead (a run's own choice still wins). */
    provider: providerChoice.default('auto'),
  })
  .strict();
export type Preferences = z.output<typeof preferences>;

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
    preferences: method(z.object({}).strict(), preferences),
    /** Changes the preferences given, keeps the rest; returns them all. */
    setPreferences: method(z.object({ provider: providerChoice.optional() }).strict(), preferences),
    /** Lists a folder (the home folder when no path is given): folders first, then files, hidden ones left out. */
    browse: method(z.object({ path: z.string().max(4096).optional() }).strict(), folderListing),
  },
  {},
);
