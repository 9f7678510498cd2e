// The shape every service of the contract takes: methods with an input and an
// output schema, and events (named onX) with a payload schema. Both transports
// (Electron IPC and web-mode HTTP/WebSocket) are generic over this shape.
import type { z } from 'zod';

export interface MethodDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly input: I;
  readonly output: O;
}

export interface ServiceDef {
  readonly methods: Readonly<Record<string, MethodDef>>;
  readonly events: Readonly<Record<`on${string}`, z.ZodType>>;
}

export function method<I extends z.ZodType, O extends z.ZodType>(input: I, output: O): MethodDef<I, O> {
  return { input, output };
}

export function service<M extends Record<string, MethodDef>, E extends Record<`on${string}`, z.ZodType>>(methods: M, events: E): { methods: M; events: E } {
  return { methods, events };
}

/** What a caller of one service sees: each method takes its input and resolves to its output. */
export type ServiceClient<S extends ServiceDef> = {
  [M in keyof S['methods']]: (input: z.input<S['methods'][M]['input']>) => Promise<z.output<S['methods'][M]['output']>>;
};

/** What the main side implements: inputs arrive already parsed, outputs are checked before they leave. */
export type ServiceHandler<S extends ServiceDef> = {
  [M in keyof S['methods']]: (input: z.output<S['methods'][M]['input']>) => Promise<z.input<S['methods'][M]['output']>> | z.input<S['methods'][M]['output']>;
};

export type EventPayload<S extends ServiceDef, E extends keyof S['events']> = z.output<S['events'][E]>;
