import { z } from 'zod';
import { apiError, jobId } from './common.js';
import { method, service } from './define.js';

export const jobState = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);

export const jobInfo = z.object({
  id: jobId,
  kind: z.enum(['import', 'segment', 'install', 'generate', 'evaluate']),
  title: z.string(),
  state: jobState,
  /** Units of work done and in all (files, steps); total 0 means not known yet. */
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  message: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  error: apiError.nullable(),
  /** The ids of what a finished job made (a drawing's generations; a report card and its concept), so a page that was away can show them. */
  outputs: z.array(z.string()),
});
export type JobInfo = z.infer<typeof jobInfo>;

export const jobsService = service(
  {
    list: method(z.object({}).strict(), z.array(jobInfo)),
    cancel: method(z.object({ id: jobId }).strict(), z.object({ cancelled: z.boolean() })),
  },
  {
    onUpdate: jobInfo,
  },
);
