// The config.json files of a diffusers SD 1.x folder, checked field by field: a folder whose config
// is null, lacks a field, holds a string for a number or an absurd size is refused with one line that
// names the file, the field and what was expected, before any graph is built.
import { z } from 'zod';
import { AppError } from '../common/app-error.js';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const channels = int(1, 4096);

export const diffusersUNetConfig = z.object({
  block_out_channels: z.array(channels).min(1).max(6),
  layers_per_block: int(1, 8),
  down_block_types: z.array(z.string()).min(1).max(6),
  cross_attention_dim: int(1, 4096),
  attention_head_dim: z.union([int(1, 512), z.array(int(1, 512)).min(1)]),
  norm_num_groups: int(1, 512).optional(),
  norm_eps: z.number().positive().max(1).optional(),
  in_channels: int(1, 64).optional(),
  out_channels: int(1, 64).optional(),
  sample_size: int(1, 1024).optional(),
  addition_embed_type: z.string().nullable().optional(),
});

export const diffusersTextConfig = z.object({
  hidden_size: int(1, 8192),
  intermediate_size: int(1, 65536),
  num_hidden_layers: int(1, 96),
  num_attention_heads: int(1, 256),
  max_position_embeddings: int(77, 4096),
  layer_norm_eps: z.number().positive().max(1).optional(),
  vocab_size: int(1000, 1_000_000),
});

export const diffusersVaeConfig = z.object({
  block_out_channels: z.array(channels).min(1).max(6),
  layers_per_block: int(1, 8),
  norm_num_groups: int(1, 512).optional(),
  latent_channels: int(1, 64).optional(),
  in_channels: int(1, 64).optional(),
  scaling_factor: z.number().positive().max(100).optional(),
});

/** Parses a config with its schema; the first problem becomes one line naming the file and the field. */
export function checkConfig<T extends z.ZodType>(schema: T, value: unknown, path: string): z.output<T> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new AppError('corrupt-file', `${path} is not a JSON object of settings; this is not a usable SD 1.x folder.`);
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || '(the file)';
  const got = issue.path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), value);
  throw new AppError('corrupt-file', `${path}: "${field}" ${got === undefined ? 'is missing' : `is ${JSON.stringify(got)}`}; expected ${expectation(issue)}.`);
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return `at least ${String(issue.minimum)}${issue.origin === 'array' ? ' entries' : ''}`;
    case 'too_big':
      return `at most ${String(issue.maximum)}${issue.origin === 'array' ? ' entries' : ''}`;
    case 'invalid_type':
      return `a ${issue.expected}`;
    default:
      return issue.message;
  }
}
