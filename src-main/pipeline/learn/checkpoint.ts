// A run's resumable state, written atomically every N steps: the trainer's tensors (parameters and
// AdamW moments), where the run is (stage, step), the random generator and the memory plan, so a
// resumed run takes exactly the steps an uninterrupted one would have.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../common/app-error.js';
import type { RandomState } from '../../graph/random.js';
import type { TrainerState } from '../../graph/runtime/trainer.js';
import { readSafetensorsHeader, readTensorAsFloat32, writeSafetensors } from '../../weights/safetensors.js';

const FORMAT = 'singleinsert-run-checkpoint/1';
const FILE = 'checkpoint.safetensors';

export interface RunCheckpoint {
  /** The stage the next step belongs to, and the steps of it already taken. */
  stage: 1 | 2;
  stageStep: number;
  /** Steps taken over both stages. */
  step: number;
  rng: RandomState;
  /** The micro-batches the stage runs as (kept so a resumed run sums its gradients in the same order). */
  microBatches: number | null;
  trainer: TrainerState;
}

export function checkpointPath(runDir: string): string {
  return join(runDir, FILE);
}

export function saveCheckpoint(runDir: string, c: RunCheckpoint): void {
  mkdirSync(runDir, { recursive: true });
  const tensors = Object.fromEntries(Object.entries(c.trainer.tensors).map(([name, data]) => [name, { dtype: 'F32' as const, shape: [data.length], data }]));
  const { tensors: _t, ...trainer } = c.trainer;
  const state = { stage: c.stage, stageStep: c.stageStep, step: c.step, rng: c.rng, microBatches: c.microBatches, trainer };
  writeSafetensors(checkpointPath(runDir), tensors, { format: FORMAT, state: JSON.stringify(state) });
}

export function loadCheckpoint(runDir: string): RunCheckpoint | null {
  const path = checkpointPath(runDir);
  if (!existsSync(path)) return null;
  try {
    const file = readSafetensorsHeader(path);
    if (file.metadata.format !== FORMAT || !file.metadata.state) throw new Error('not a run checkpoint');
    const state = JSON.parse(file.metadata.state) as Omit<RunCheckpoint, 'trainer'> & { trainer: Omit<TrainerState, 'tensors'> };
    const tensors: Record<string, Float32Array> = {};
    for (const name of file.tensors.keys()) tensors[name] = readTensorAsFloat32(file, name);
    return { ...state, trainer: { ...state.trainer, tensors } };
  } catch (err) {
    throw new AppError('corrupt-file', `The run's checkpoint ${path} cannot be read (${(err as Error).message}). Delete it to start the run over.`);
  }
}

export function removeRunDir(runDir: string): void {
  rmSync(runDir, { recursive: true, force: true });
}
