/** The execution providers a session may ask for, in the order a user would prefer them. */
export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';
