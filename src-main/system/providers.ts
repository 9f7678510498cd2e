import { EXECUTION_PROVIDERS, type ProviderInfo } from '../../src-preload/contract/index.js';
import { ProtoWriter } from '../graph/onnx/protobuf-writer.js';
import { missingRequirement } from '../graph/runtime/provider-requirements.js';

/** y = x + x over float32[4]: the smallest model that makes a provider run a kernel. */
export function probeModel(): Uint8Array {
  const valueInfo = (w: ProtoWriter, name: string) =>
    w
      .string(1, name)
      .message(2, (type) => type.message(1, (tensor) => tensor.varint(1, 1 /* FLOAT */).message(2, (shape) => shape.message(1, (dim) => dim.varint(1, 4)))));
  return new ProtoWriter()
    .varint(1, 8) // ir_version
    .string(2, 'singleinsert')
    .message(8, (opset) => opset.string(1, '').varint(2, 17))
    .message(7, (graph) =>
      graph
        .message(1, (node) => node.string(1, 'x').string(1, 'x').string(2, 'y').string(4, 'Add'))
        .string(2, 'provider-probe')
        .message(11, (w) => valueInfo(w, 'x'))
        .message(12, (w) => valueInfo(w, 'y')),
    )
    .finish();
}

/**
 * Which onnxruntime execution providers this machine can use: bundled in the
 * package, and actually able to create a session and run a kernel.
 */
export async function probeProviders(): Promise<ProviderInfo[]> {
  let backend: typeof import('../graph/runtime/session.js');
  try {
    // loaded here rather than imported, so a broken onnxruntime install is reported, not a crash
    backend = await import('../graph/runtime/session.js');
  } catch (err) {
    const detail = `onnxruntime-node could not be loaded: ${(err as Error).message}`;
    return EXECUTION_PROVIDERS.map((name) => ({ name, bundled: false, usable: false, detail }));
  }
  const { ort, ORT_BINARY_DIR: ortBin } = backend;
  const supported = new Map(ort.listSupportedBackends().map((b) => [b.name, b.bundled]));
  const model = probeModel();
  const results: ProviderInfo[] = [];
  for (const name of EXECUTION_PROVIDERS) {
    const bundled = supported.get(name) === true;
    if (!supported.has(name)) {
      results.push({ name, bundled: false, usable: false, detail: `not available for ${process.platform}/${process.arch}` });
      continue;
    }
    // probing without what the provider needs would only make the native side print its own warnings
    const missing = missingRequirement(name, ortBin);
    if (missing) {
      results.push({ name, bundled, usable: false, detail: missing });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(model, { executionProviders: [name] });
      const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]);
      const y = (await session.run({ x })).y!.data as Float32Array;
      await session.release();
      const ok = y[3] === 8;
      results.push({ name, bundled, usable: ok, detail: ok ? 'ran a test kernel' : 'ran a test kernel but got a wrong answer' });
    } catch (err) {
      results.push({ name, bundled, usable: false, detail: explainProviderError((err as Error).message) });
    }
  }
  return results;
}

/** ORT's messages carry source paths and lambdas; keep the part a person can act on. */
function explainProviderError(message: string): string {
  if (/WebGPU adapter/i.test(message)) return 'no GPU adapter found (WebGPU needs a Vulkan, D3D12 or Metal capable GPU and driver)';
  const line = message.split('\n')[0]!;
  return (line.split(/\) (?=[A-Z])/).pop() ?? line).slice(0, 300);
}
