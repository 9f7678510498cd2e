import { GraphError } from '../errors.js';
import type { Graph } from '../graph.js';
import type { Tensor } from '../ir.js';

/** Structural checks before ORT sees a graph: every input defined before use, names unique, outputs computed. */
export function validateGraph(graph: Graph): void {
  const defined = new Set<Tensor>();
  const names = new Set<string>();
  const define = (t: Tensor, what: string) => {
    if (names.has(t.name)) throw new GraphError('validate', `${what} ${t.name} is defined twice`);
    names.add(t.name);
    defined.add(t);
  };
  for (const input of graph.inputs) define(input.tensor, 'input');
  for (const init of graph.initializers) define(init.tensor, 'initializer');
  for (const node of graph.nodes) {
    for (const t of node.inputs) {
      if (t && !defined.has(t)) throw new GraphError('validate', `${node.name} (${node.type}) reads ${t.name} before it is computed`);
    }
    for (const t of node.outputs) define(t, 'output of');
  }
  const outNames = new Set<string>();
  for (const out of graph.outputs) {
    if (!defined.has(out.tensor)) throw new GraphError('validate', `graph output ${out.name} is never computed`);
    if (outNames.has(out.name)) throw new GraphError('validate', `graph output name ${out.name} is used twice`);
    outNames.add(out.name);
  }
  if (graph.outputs.length === 0) throw new GraphError('validate', 'the graph has no outputs');
}
