// The op set: forward builders; their gradient rules are one table in gradients.ts.
export * from './elementwise.js';
export * from './linalg.js';
export * from './reduce.js';
export * from './shape-ops.js';
export type { Tensor } from '../ir.js';
