import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { byteView } from '../dtype.js';
import type { Graph } from '../graph.js';
import type { Initializer } from '../ir.js';
import { encodeModel, writeModel } from '../onnx/serialize.js';

export interface CachedModel {
  modelPath: string;
  key: string;
  /** True when the model was already on disk and nothing was written. */
  hit: boolean;
}

/** What makes a weight the same weight: its bytes when inline, its file's identity and range when file-backed. */
function weightIdentity(init: Initializer): string {
  if (init.value.kind === 'inline') return createHash('sha256').update(byteView(init.value.data)).digest('hex');
  const { file, offset, length } = init.value.ref;
  const st = statSync(file);
  return `${resolve(file)}:${st.size}:${st.mtimeMs}:${offset}:${length}`;
}

/** The cache key: the graph's structure with every weight replaced by its identity. */
export function graphKey(graph: Graph): string {
  const structure = encodeModel(graph, (init) => ({ location: weightIdentity(init), offset: 0, length: 0 }));
  return createHash('sha256').update(structure).digest('hex').slice(0, 32);
}

/**
 * The graph's ONNX files under `cacheRoot/<key>/`, written once: a second run of the same
 * graph with the same weights finds them and skips serialization.
 */
export function cachedModel(graph: Graph, cacheRoot: string): CachedModel {
  const key = graphKey(graph);
  const dir = join(cacheRoot, key);
  const modelPath = join(dir, 'model.onnx');
  if (existsSync(modelPath)) return { modelPath, key, hit: true };
  const tmp = join(cacheRoot, `.${key}.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeModel(graph, tmp);
  try {
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(modelPath)) throw err; // another process won the race otherwise
  }
  return { modelPath, key, hit: false };
}
