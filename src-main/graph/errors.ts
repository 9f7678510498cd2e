/** A graph that cannot be built as written; the stack points at the builder call. */
export class GraphError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'GraphError';
  }
}
