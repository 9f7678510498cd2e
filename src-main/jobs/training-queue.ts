// The app's training queue: runs wait in the library in order and run one at a time (one GPU job at
// a time), each on a worker thread, so the API answers while a step computes. The queue reads its
// order from the library, so runs queued by the CLI or before a restart are picked up too.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RunPreview, RunStep, TrainingRun } from '../../src-preload/contract/training.js';
import { PROJECT_ROOT } from '../common/project-root.js';
import type { Library } from '../library/library.js';
import type { VisionConfig } from '../models/vision.js';
import type { WorkerInput, WorkerMessage } from './training-worker.js';

/** The worker runs the built code (tests run the sources, whose .ts a worker cannot load). */
const WORKER_SCRIPT = join(PROJECT_ROOT, 'out', 'src-main', 'jobs', 'training-worker.js');

export class TrainingQueue {
  private current: { runId: string; worker: Worker } | null = null;
  private closed = false;

  constructor(
    private readonly library: Library,
    private readonly onProgress: (run: TrainingRun, step: RunStep | null, previews: RunPreview[]) => void,
    readonly options: { officialEncoder?: VisionConfig } = {},
  ) {}

  get runningId(): string | null {
    return this.current?.runId ?? null;
  }

  /** Starts the next queued run when none is running. */
  pump(): void {
    if (this.current || this.closed) return;
    this.library.runs.markOrphansInterrupted();
    const next = this.library.runs.queued()[0];
    if (!next) return;
    const input: WorkerInput = {
      dataDir: this.library.dataDir,
      runId: next.id,
      ...(this.options.officialEncoder ? { officialEncoder: this.options.officialEncoder } : {}),
    };
    const worker = new Worker(WORKER_SCRIPT, { workerData: input });
    this.current = { runId: next.id, worker };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'step') this.onProgress(m.run, m.step, []);
      else if (m.type === 'previews') this.onProgress(m.run, null, m.previews);
      else this.publish(next.id);
    });
    worker.on('error', (err) => {
      // a worker that dies without saying why (out of memory in native code, say) leaves its run failed
      const run = this.library.runs.get(next.id);
      if (run.state === 'running') this.library.runs.finish(next.id, 'failed', { error: `The training thread stopped: ${err.message}` });
    });
    worker.on('exit', () => {
      this.current = null;
      this.publish(next.id);
      queueMicrotask(() => this.pump());
    });
    this.publish(next.id);
  }

  /** Cancels a queued run, or stops the running one at its next step (it keeps its checkpoint). */
  cancel(runId: string): TrainingRun {
    const run = this.library.runs.requestCancel(runId);
    if (this.current?.runId === runId) this.current.worker.postMessage({ type: 'cancel' });
    this.publish(runId);
    return run;
  }

  /** On quit: the running run stops now; at the next start it shows as interrupted and can be resumed. */
  async close(): Promise<void> {
    this.closed = true;
    const current = this.current;
    if (!current) return;
    await current.worker.terminate();
    if (this.library.runs.get(current.runId).state === 'running') {
      this.library.runs.finish(current.runId, 'interrupted', { error: 'The app closed while it ran. Resume it to go on from its last checkpoint.' });
    }
  }

  private publish(runId: string): void {
    const run = this.library.runs.find(runId); // gone if deleted meanwhile
    if (run) this.onProgress(run, null, []);
  }
}
