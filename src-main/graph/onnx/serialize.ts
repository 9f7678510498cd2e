// Graph → ONNX ModelProto, with weights as external data so models over 2 GB work.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, renameSync, rmSync, statSync, symlinkSync, writeSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { byteView, ONNX_DTYPE } from '../dtype.js';
import { OPSET, type Graph } from '../graph.js';
import type { Attr, Initializer, Tensor } from '../ir.js';
import { STOP_GRADIENT } from '../ops/elementwise.js';
import { validateGraph } from './validate.js';
import { ProtoWriter } from './protobuf-writer.js';

const IR_VERSION = 8;
const DATA_LOCATION_EXTERNAL = 1;

/** Where one initializer's bytes live, relative to the model file's folder. */
export interface ExternalLocation {
  location: string;
  offset: number;
  length: number;
}

/** Encodes the model; initializers with a location are written as external data, the rest inline. */
export function encodeModel(graph: Graph, locate: (init: Initializer) => ExternalLocation | undefined = () => undefined): Uint8Array {
  validateGraph(graph);
  const w = new ProtoWriter();
  w.varint(1, IR_VERSION)
    .string(2, 'singleinsert-graph')
    .message(8, (o) => o.string(1, '').varint(2, OPSET));
  // a stop-gradient is its input under another name: no node, its readers read the input
  const alias = new Map<Tensor, Tensor>();
  const source = (t: Tensor) => alias.get(t) ?? t;
  w.message(7, (gw) => {
    for (const node of graph.nodes) {
      if (node.type === STOP_GRADIENT) {
        alias.set(node.outputs[0]!, source(node.inputs[0]!));
        continue;
      }
      gw.message(1, (nw) => {
        for (const t of node.inputs) nw.string(1, t ? source(t).name : '');
        for (const t of node.outputs) nw.string(2, t.name);
        nw.string(3, node.name).string(4, node.type);
        for (const [name, attr] of Object.entries(node.attrs)) nw.message(5, (aw) => writeAttr(aw, name, attr));
      });
    }
    gw.string(2, graph.name);
    for (const init of graph.initializers) gw.message(5, (tw) => writeInitializer(tw, init, locate(init)));
    for (const input of graph.inputs) gw.message(11, (vw) => writeValueInfo(vw, input.tensor.name, input.tensor));
    for (const out of graph.outputs) gw.message(12, (vw) => writeValueInfo(vw, out.name, out.tensor));
  });
  return w.finish();
}

function writeAttr(w: ProtoWriter, name: string, attr: Attr): void {
  w.string(1, name);
  if ('int' in attr) w.varint(3, attr.int).varint(20, 2);
  else if ('float' in attr) w.float(2, attr.float).varint(20, 1);
  else if ('string' in attr) w.string(4, attr.string).varint(20, 3);
  else if ('ints' in attr) {
    for (const v of attr.ints) w.varint(8, v);
    w.varint(20, 7);
  } else {
    for (const v of attr.floats) w.float(7, v);
    w.varint(20, 6);
  }
}

function writeInitializer(w: ProtoWriter, init: Initializer, external: ExternalLocation | undefined): void {
  const t = init.tensor;
  for (const d of t.shape) w.varint(1, d);
  w.varint(2, ONNX_DTYPE[t.dtype]).string(8, t.name);
  if (external) {
    for (const [key, value] of [
      ['location', external.location],
      ['offset', String(external.offset)],
      ['length', String(external.length)],
    ] as const) {
      w.message(13, (e) => e.string(1, key).string(2, value));
    }
    w.varint(14, DATA_LOCATION_EXTERNAL);
  } else {
    if (init.value.kind !== 'inline') throw new Error(`${t.name}: file-backed weight without a location`);
    w.bytes(9, byteView(init.value.data));
  }
}

function writeValueInfo(w: ProtoWriter, name: string, t: Tensor): void {
  w.string(1, name).message(2, (type) =>
    type.message(1, (tt) =>
      tt.varint(1, ONNX_DTYPE[t.dtype]).message(2, (shape) => {
        for (const d of t.shape) shape.message(1, (dim) => dim.varint(1, d));
      }),
    ),
  );
}

export interface WrittenModel {
  modelPath: string;
  /** Bytes of inline-copied weight data written beside the model. */
  weightBytes: number;
}

/**
 * Writes `dir/model.onnx` and `dir/weights.bin`. Inline weights above `inlineLimit` bytes go
 * to weights.bin; weights that point into files (safetensors) are referenced in place through
 * a link in `dir`, never copied. Files appear complete or not at all (temp + rename).
 */
export function writeModel(graph: Graph, dir: string, options: { inlineLimit?: number } = {}): WrittenModel {
  const inlineLimit = options.inlineLimit ?? 1024;
  mkdirSync(dir, { recursive: true });
  const weightsTmp = join(dir, `weights.bin.${process.pid}.tmp`);
  const fd = openSync(weightsTmp, 'w');
  let offset = 0;
  const locations = new Map<Initializer, ExternalLocation>();
  try {
    for (const init of graph.initializers) {
      if (init.value.kind === 'external') {
        const { file, offset: at, length } = init.value.ref;
        locations.set(init, { location: linkInto(dir, file), offset: at, length });
      } else if (init.value.data.byteLength > inlineLimit) {
        const bytes = byteView(init.value.data);
        const aligned = Math.ceil(offset / 64) * 64; // aligned offsets let ORT map weights directly
        writeSync(fd, bytes, 0, bytes.byteLength, aligned);
        locations.set(init, { location: 'weights.bin', offset: aligned, length: bytes.byteLength });
        offset = aligned + bytes.byteLength;
      }
    }
  } finally {
    closeSync(fd);
  }
  const model = encodeModel(graph, (init) => locations.get(init));
  renameSync(weightsTmp, join(dir, 'weights.bin'));
  const modelTmp = join(dir, `model.onnx.${process.pid}.tmp`);
  const mfd = openSync(modelTmp, 'w');
  try {
    writeSync(mfd, model);
  } finally {
    closeSync(mfd);
  }
  renameSync(modelTmp, join(dir, 'model.onnx'));
  return { modelPath: join(dir, 'model.onnx'), weightBytes: offset };
}

/** ORT reads external data only from inside the model's folder: link the user's file there (hard link, else symlink). */
function linkInto(dir: string, file: string): string {
  const abs = resolve(file);
  const st = statSync(abs);
  const name = `ext-${createHash('sha256').update(`${abs}:${st.size}:${st.mtimeMs}`).digest('hex').slice(0, 16)}-${basename(abs).replace(/[^\w.-]/g, '_')}`;
  const target = join(dir, name);
  if (!existsSync(target)) {
    try {
      linkSync(abs, target);
    } catch {
      rmSync(target, { force: true });
      symlinkSync(abs, target);
    }
  }
  return name;
}
