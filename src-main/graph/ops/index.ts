// The op set: forward builders and, registered beside each, its gradient rule.
export * from './elementwise.js';
export * from './linalg.js';
export * from './reduce.js';
export * from './shape-ops.js';
export { NON_DIFFERENTIABLE, vjpOf } from './registry.js';
export type { Tensor } from '../ir.js';
