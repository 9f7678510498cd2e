import { z } from 'zod';

export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest');
export const isoDate = z.string();

/** Ids are short, typed and printable: img_…, con_…, msk_…, job_…, run_…, gen_…, mod_… */
export const imageId = z.string().regex(/^img_[0-9a-z]{6,32}$/, 'expected an image id like img_1a2b3c4d');
export const generationId = z.string().regex(/^gen_[0-9a-z]{6,32}$/, 'expected a generated image id like gen_1a2b3c4d');
export const conceptId = z.string().regex(/^con_[0-9a-z]{6,32}$/, 'expected a concept id like con_1a2b3c4d');
export const jobId = z.string().regex(/^job_[0-9a-z]{6,32}$/, 'expected a job id like job_1a2b3c4d');

/** Error codes the UI and the CLI can act on; `message` always says what to do next. */
export const errorCode = z.enum([
  'invalid-input',
  'not-found',
  'unsupported-image',
  'corrupt-image',
  'corrupt-file',
  'unsupported-model',
  'too-large',
  'disk-full',
  'out-of-memory',
  'conflict',
  'cancelled',
  'unavailable',
  'internal',
]);
export type ErrorCode = z.infer<typeof errorCode>;

/** onnxruntime's execution providers a session may ask for, in the order a user would prefer them. */
export const EXECUTION_PROVIDERS = ['cpu', 'webgpu', 'cuda'] as const;
export const executionProvider = z.enum(EXECUTION_PROVIDERS);
export type ExecutionProvider = z.infer<typeof executionProvider>;
/** What a user picks: a provider, or `auto` (the best usable GPU, else the CPU; system/device-choice.ts says which and why). */
export const PROVIDER_CHOICES = ['auto', ...EXECUTION_PROVIDERS] as const;
export const providerChoice = z.enum(PROVIDER_CHOICES);
export type ProviderChoice = z.infer<typeof providerChoice>;
export const PROVIDER_LABELS: Readonly<Record<ProviderChoice, string>> = { auto: 'Best available', cpu: 'CPU', webgpu: 'WebGPU', cuda: 'CUDA (NVIDIA)' };

/** Seeds are 31-bit, as PyTorch's generators and the app's samplers take them. */
export const MAX_SEED = 2 ** 31 - 1;
export const seed = z.number().int().min(0).max(MAX_SEED);

export const apiError = z.object({ code: errorCode, message: z.string() });
export type ApiError = z.infer<typeof apiError>;

/** One request on the generic channel. */
export const invokeRequest = z.object({
  service: z.string().min(1).max(64),
  method: z.string().min(1).max(64),
  input: z.unknown(),
});
export type InvokeRequest = z.infer<typeof invokeRequest>;

export type InvokeResponse = { ok: true; value: unknown } | { ok: false; error: ApiError };

/** One event on the generic channel. */
export interface EventMessage {
  service: string;
  event: string;
  payload: unknown;
}

/** Where an imported file (a photo, a concept file) comes from: a path (Electron, CLI) or bytes uploaded first (web mode). */
export const importSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('path'), path: z.string().min(1).max(4096) }).strict(),
  z.object({ kind: z.literal('upload'), uploadId: z.string().regex(/^upl_[0-9a-z]{8,40}$/), name: z.string().max(512) }).strict(),
]);
export type ImportSource = z.infer<typeof importSource>;
