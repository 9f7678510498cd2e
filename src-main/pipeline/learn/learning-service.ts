// The one learning service: the CLI and the app both create runs here and run them through
// `runInThisProcess` (the app does so on its worker thread); runs are rows in the library, so any
// process sees, cancels and resumes them.
import { refuseInpaintingUNet } from '../../weights/check-architecture.js';
import { newRun, type NewRun, type TrainingRun } from '../../../src-preload/contract/training.js';
import { AppError, toApiError } from '../../common/app-error.js';
import type { Library } from '../../library/library.js';
import { resolveModel } from '../../model-manager/resolve-model.js';
import type { VisionConfig } from '../../models/vision.js';
import { openStableDiffusion } from '../../weights/sd-loader.js';
import { openImageEncoder } from './encoder.js';
import { preflight, runLearning, type RunHooks } from './learn-run.js';
import { chooseDevice } from '../../system/device-choice.js';

/**
 * Checks what a run needs (photo, its mask, the model, the encoder) and that each stage's step fits the
 * memory there is, then queues it. Whatever is wrong is refused here, before anything is written.
 */
export async function createRun(library: Library, input: NewRun, options: { officialEncoder?: VisionConfig } = {}): Promise<TrainingRun> {
  const req = newRun.parse(input);
  const image = library.images.get(req.imageId);
  const masks = library.masks.list(image.id).filter((m) => (req.maskId ? m.id === req.maskId : m.classWord === req.classWord));
  const mask = masks[0];
  if (!mask) {
    throw new AppError(
      'not-found',
      req.maskId
        ? `No mask ${req.maskId} for ${image.id}.`
        : `No "${req.classWord}" mask for ${image.name} yet; make one in the Mask studio or with \`singleinsert mask ${image.id} --class ${req.classWord} --point x,y\`.`,
    );
  }
  const model = resolveModel(library, req.model);
  const sd = openStableDiffusion(model.path);
  refuseInpaintingUNet(sd); // SingleInsert learns on the base model's UNet
  const encoder = openImageEncoder(library, req.settings, sd.textEncoder.config.hiddenSize, options.officialEncoder);
  const plans = await preflight(sd, encoder, {
    ...req.settings,
    provider: (await chooseDevice(req.settings.provider, library.preferences.get().provider)).provider,
  });
  const run = library.runs.create({
    name: req.name || `${req.classWord} from ${image.name}`,
    classWord: req.classWord,
    imageId: image.id,
    maskId: mask.id,
    modelId: model.modelId,
    modelRef: model.modelId ?? model.path,
    settings: req.settings,
  });
  for (const plan of plans) library.runs.log(run.id, `Preflight, ${plan}`);
  return library.runs.get(run.id);
}

/**
 * Claims the run for this process and runs it to its end. Cancelled, failed and interrupted runs
 * keep their last checkpoint and can be resumed; the error that ended it is on the row and thrown.
 */
export async function runInThisProcess(library: Library, runId: string, hooks: RunHooks = {}): Promise<TrainingRun> {
  if (!library.runs.claim(runId, process.pid)) {
    const run = library.runs.get(runId);
    throw new AppError(
      'conflict',
      run.state === 'running'
        ? `Run ${runId} is already running (in the app or another command); cancel it there first.`
        : `Run ${runId} has ${run.state}; only queued, interrupted, failed or cancelled runs can run.`,
    );
  }
  try {
    return await runLearning(library, runId, hooks);
  } catch (err) {
    const e = toApiError(err);
    library.runs.finish(runId, e.code === 'cancelled' ? 'cancelled' : 'failed', { error: e.message });
    library.runs.log(runId, `${e.code === 'cancelled' ? 'Cancelled' : 'Failed'}: ${e.message}`);
    throw err;
  }
}

/** Puts an interrupted, failed or cancelled run back in the queue; it goes on from its last checkpoint. */
export function resumeRun(library: Library, runId: string): TrainingRun {
  library.runs.markOrphansInterrupted();
  library.runs.requeue(runId);
  return library.runs.get(runId);
}
