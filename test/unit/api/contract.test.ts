// What the schemas do at run time, which the contract's types cannot promise: a payload with a field the
// contract does not name is refused (zod's default would drop it silently, so a renderer typo in an
// optional setting would be ignored instead of reported).
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { contract } from '../../../src-preload/contract/index.js';

/** The object schemas a payload may be checked against, looking through optional, default, pipe and union. */
function objectsIn(schema: z.core.$ZodType): z.ZodObject[] {
  const def = schema._zod.def as { type: string; innerType?: z.core.$ZodType; options?: z.core.$ZodType[]; in?: z.core.$ZodType };
  if (schema instanceof z.ZodObject) return [schema];
  if (def.innerType) return objectsIn(def.innerType);
  if (def.in) return objectsIn(def.in);
  if (def.options) return def.options.flatMap(objectsIn);
  return [];
}

describe('API contract', () => {
  const inputs = Object.entries(contract).flatMap(([service, def]) =>
    Object.entries(def.methods).map(([name, m]) => [`${service}.${name}`, m.input as z.ZodType] as const),
  );

  it.each(inputs)('%s refuses a field it does not name', (_name, input) => {
    for (const object of objectsIn(input)) {
      expect(object._zod.def.catchall?._zod.def.type, `fields: ${Object.keys(object.shape).join(', ')}`).toBe('never');
      const known = Object.fromEntries(Object.keys(object.shape).map((k) => [k, undefined]));
      const parsed = object.safeParse({ ...known, notInTheContract: 1 });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.some((i) => i.code === 'unrecognized_keys')).toBe(true);
    }
  });

  it('reaches object schemas through the wrappers the contract uses', () => {
    const wrapped = z
      .union([z.object({ a: z.string() }).strict(), z.object({ b: z.number() }).strict()])
      .optional()
      .default({ a: 'x' });
    expect(objectsIn(wrapped)).toHaveLength(2);
    expect(objectsIn(z.string())).toHaveLength(0);
  });
});
