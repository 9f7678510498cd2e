// The whole API between the renderer and the main side. Each transport serves
// exactly this object; a test checks every method has a handler.
import type { ServiceClient, ServiceDef, ServiceHandler } from './define.js';
import { evaluationsService } from './evaluations.js';
import { imagesService } from './images.js';
import { jobsService } from './jobs.js';
import { libraryService } from './library.js';
import { masksService } from './masks.js';
import { modelsService } from './models.js';
import { compositionsService, generationsService } from './generations.js';
import { systemService } from './system.js';
import { trainingService } from './training.js';

export const contract = {
  library: libraryService,
  images: imagesService,
  jobs: jobsService,
  masks: masksService,
  models: modelsService,
  generations: generationsService,
  compositions: compositionsService,
  system: systemService,
  training: trainingService,
  evaluations: evaluationsService,
} satisfies Record<string, ServiceDef>;

export type Contract = typeof contract;
export type ServiceName = keyof Contract;

export type ApiClient = { [S in ServiceName]: ServiceClient<Contract[S]> };
export type ApiHandlers = { [S in ServiceName]: ServiceHandler<Contract[S]> };

export * from './common.js';
export * from './bridge.js';
export type { ImageRecord, ConceptRecord } from './library.js';
export { EXPORTS_FOLDER } from './library.js';
export type { ImportResult } from './images.js';
export type { ImportSource } from './common.js';
export type { JobInfo } from './jobs.js';
export type { MaskRecord, MaskResultWire } from './masks.js';
export type { ModelRecord } from './models.js';
export type { EvaluationReport, EvaluationSummary, MetricKey } from './evaluations.js';
export type { GalleryQuery, GallerySort, GenerationRecord, SavedComposition } from './generations.js';
export { boardName, GALLERY_SORTS, queryGallery } from './generations.js';
export type { AdapterReport, DeviceChoice, DoctorReport, FolderListing, GpuAdapter, GpuReport, Preferences, ProviderInfo } from './system.js';
export { preferences as preferencesSchema } from './system.js';
export type { LearnSettings, LearnSettingsInput, LearnPreset, NewRun, QueueMove, RunDetail, RunPreview, RunState, RunStep, TrainingRun } from './training.js';
export {
  DEFAULT_PREVIEW_PROMPTS,
  describeSettingIssue,
  LEARN_PRESETS,
  LEARN_SETTING_LABELS,
  learnSettings,
  MAX_PREVIEW_PROMPTS,
  previewPromptFor,
  RUNS_ON,
} from './training.js';
export { formatDuration, formatMemory, formatSpeed, memoryOf, runPace, smoothed, stageBoundary } from './run-progress.js';
export type { Composition, CompositionInput, DecoderName, DraftNeed, NovelView, RegionBox } from './compose.js';
export {
  boxInPixels,
  COMPOSITION_LABELS,
  composition,
  DECODER_LABELS,
  DECODERS,
  DRAFT_NEEDS,
  DRAFT_PRESET,
  draftNeedText,
  isLcmLora,
  FEW_STEP_SAMPLERS,
  describeCompositionIssue,
  KARRAS_SAMPLERS,
  LORA_STRENGTH,
  NOVEL_VIEWS,
  SAMPLER_LABELS,
  SAMPLERS,
  promptWithView,
  startImageSize,
  viewPhrase,
} from './compose.js';
