import type { z } from 'zod';
import type { MethodDef } from '../../src-preload/contract/define.js';
import { type ApiHandlers, contract, type InvokeResponse, invokeRequest } from '../../src-preload/contract/index.js';
import { AppError, toApiError } from '../common/app-error.js';

export type Dispatch = (request: unknown) => Promise<InvokeResponse>;

const own = (obj: object, key: string) => Object.prototype.hasOwnProperty.call(obj, key);

/**
 * The one generic, validated channel: every request is checked against the contract
 * (service, method, input schema) before a handler sees it, and every output
 * against its schema before it leaves.
 */
export function createDispatcher(handlers: ApiHandlers, options: { onInternalError?: (err: unknown) => void } = {}): Dispatch {
  return async (raw) => {
    try {
      const request = invokeRequest.safeParse(raw);
      if (!request.success) throw new AppError('invalid-input', 'Malformed request: expected { service, method, input }.');
      const { service, method, input } = request.data;
      if (!own(contract, service)) throw new AppError('invalid-input', `Unknown service "${service}".`);
      const serviceDef = contract[service as keyof typeof contract];
      if (!own(serviceDef.methods, method)) throw new AppError('invalid-input', `Unknown method "${service}.${method}".`);
      const def = (serviceDef.methods as Record<string, MethodDef>)[method]!;
      const parsed = def.input.safeParse(input ?? {});
      if (!parsed.success) {
        throw new AppError('invalid-input', `Invalid input for ${service}.${method}: ${describeIssues(parsed.error)}`);
      }
      const handler = (handlers[service as keyof ApiHandlers] as Record<string, (i: unknown) => unknown>)[method]!;
      const output = await handler(parsed.data);
      const checked = def.output.safeParse(output);
      if (!checked.success) {
        throw new Error(`Handler ${service}.${method} returned a value outside its schema: ${describeIssues(checked.error)}`);
      }
      return { ok: true, value: checked.data };
    } catch (err) {
      const error = toApiError(err);
      if (error.code === 'internal') options.onInternalError?.(err);
      return { ok: false, error };
    }
  };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`)
    .join('; ');
}
