// The training_runs, training_steps and training_previews tables behind a typed interface.
import type { Database } from 'better-sqlite3';
import { rmSync } from 'node:fs';
import {
  learnSettings,
  type LearnSettings,
  type RunDetail,
  type RunPreview,
  type RunState,
  type RunStep,
  type TrainingRun,
} from '../../src-preload/contract/training.js';
import type { QueueMove } from '../../src-preload/contract/training.js';
import { AppError } from '../common/app-error.js';
import { newId } from '../common/ids.js';
import { processAlive } from '../common/process-alive.js';
import type { Blobs } from './blobs.js';

interface RunRow {
  id: string;
  name: string;
  class_word: string;
  image_id: string | null;
  mask_id: string | null;
  model_id: string | null;
  model_ref: string;
  settings_json: string;
  state: RunState;
  stage: number;
  step: number;
  total_steps: number;
  checkpoint_step: number;
  owner_pid: number | null;
  cancel_requested: number;
  log_json: string;
  error: string | null;
  concept_id: string | null;
  queue_order: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

interface StepRow {
  step: number;
  stage: number;
  loss: number;
  l_fg: number;
  l_bg: number;
  l_sm: number | null;
  grad_norm: number;
  ms: number;
  rss_mb: number | null;
}

interface PreviewRow {
  step: number;
  stage: number;
  prompt_index: number;
  prompt: string;
  seed: number;
  sha256: string;
  final: number;
  created_at: string;
}

export interface NewRunRow {
  name: string;
  classWord: string;
  imageId: string;
  maskId: string;
  modelId: string | null;
  modelRef: string;
  settings: LearnSettings;
}

/** States in which a run holds (or waits for) the trainer. */
const ACTIVE: readonly RunState[] = ['queued', 'running'];

export class TrainingRuns {
  constructor(
    private readonly db: Database,
    private readonly blobs: Blobs,
    /** Where a run keeps its resumable state (checkpoints), outside the content store. */
    readonly runDir: (runId: string) => string,
  ) {}

  /** Stores a run's preview image and its row together. */
  async addPreview(runId: string, preview: Omit<RunPreview, 'sha256' | 'createdAt'>, png: Buffer): Promise<RunPreview> {
    const { sha256, size } = await this.blobs.store.put(png);
    const record: RunPreview = { ...preview, sha256, createdAt: new Date().toISOString() };
    this.db.transaction(() => {
      this.blobs.insert({ sha256, size, mime: 'image/png' }, record.createdAt);
      this.insertPreview(runId, record);
    })();
    return record;
  }

  /** Deletes a run that is not running with its steps, previews and checkpoint; the concept it made stays. */
  async delete(runId: string): Promise<{ removedFiles: number }> {
    const removed = await this.blobs.deleteRowsThenFiles(() => this.deleteRow(runId));
    rmSync(this.runDir(runId), { recursive: true, force: true });
    return removed;
  }

  create(input: NewRunRow): TrainingRun {
    const id = newId('run');
    this.db
      .prepare(
        `INSERT INTO training_runs (id, name, class_word, image_id, mask_id, model_id, model_ref, settings_json, state, total_steps, queue_order, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
      )
      .run(
        id,
        input.name,
        input.classWord,
        input.imageId,
        input.maskId,
        input.modelId,
        input.modelRef,
        JSON.stringify(input.settings),
        input.settings.steps1 + input.settings.steps2,
        this.nextInQueue(),
        new Date().toISOString(),
      );
    return this.get(id);
  }

  get(id: string): TrainingRun {
    const run = this.find(id);
    if (!run) throw new AppError('not-found', `No training run ${id} (see \`singleinsert runs list\`).`);
    return run;
  }

  /** The run, or null when there is none (deleted). */
  find(id: string): TrainingRun | null {
    const row = this.db.prepare('SELECT * FROM training_runs WHERE id = ?').get(id) as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  /** Newest first. */
  list(): TrainingRun[] {
    return (this.db.prepare('SELECT * FROM training_runs ORDER BY created_at DESC, queue_order DESC').all() as RunRow[]).map(toRun);
  }

  /** The run that made a concept, if one did. */
  ofConcept(conceptId: string): TrainingRun | null {
    const row = this.db.prepare('SELECT * FROM training_runs WHERE concept_id = ?').get(conceptId) as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  /** The queued runs in the order they will start. */
  queued(): TrainingRun[] {
    return (this.db.prepare("SELECT * FROM training_runs WHERE state = 'queued' ORDER BY queue_order").all() as RunRow[]).map(toRun);
  }

  steps(id: string): RunStep[] {
    const rows = this.db
      .prepare('SELECT step, stage, loss, l_fg, l_bg, l_sm, grad_norm, ms, rss_mb FROM training_steps WHERE run_id = ? ORDER BY step')
      .all(id) as StepRow[];
    return rows.map((r) => ({
      step: r.step,
      stage: r.stage === 2 ? 2 : 1,
      loss: r.loss,
      lFg: r.l_fg,
      lBg: r.l_bg,
      lSm: r.l_sm,
      gradNorm: r.grad_norm,
      ms: r.ms,
      rssMb: r.rss_mb,
    }));
  }

  /** A run with its steps and previews, as its detail view shows it. */
  detail(id: string): RunDetail {
    return { run: this.get(id), steps: this.steps(id), previews: this.previews(id) };
  }

  /** Previews in the order they were drawn (by step, then prompt). */
  previews(id: string): RunPreview[] {
    const rows = this.db.prepare('SELECT * FROM training_previews WHERE run_id = ? ORDER BY step, prompt_index').all(id) as PreviewRow[];
    return rows.map((r) => ({
      step: r.step,
      stage: r.stage === 2 ? 2 : 1,
      promptIndex: r.prompt_index,
      prompt: r.prompt,
      seed: r.seed,
      sha256: r.sha256,
      final: r.final === 1,
      createdAt: r.created_at,
    }));
  }

  /** Records a preview whose file is in the store (its blob row written by the caller, in the same transaction). */
  insertPreview(id: string, p: RunPreview): void {
    // a step redone after a resume draws its previews again and replaces the first try's
    this.db
      .prepare(
        'INSERT OR REPLACE INTO training_previews (run_id, step, stage, prompt_index, prompt, seed, sha256, final, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(id, p.step, p.stage, p.promptIndex, p.prompt, p.seed, p.sha256, p.final ? 1 : 0, p.createdAt);
  }

  /** Deletes an ended or waiting run's rows (steps and previews go with it); the caller frees files. */
  deleteRow(id: string): void {
    const run = this.get(id);
    if (run.state === 'running') throw new AppError('conflict', `Run ${id} is running; cancel it first, then delete it.`);
    this.db.prepare('DELETE FROM training_runs WHERE id = ?').run(id);
  }

  /** Claims a queued or resumable run for this process; false if another process has it. */
  claim(id: string, pid: number): boolean {
    const now = new Date().toISOString();
    const changed = this.db
      .prepare(
        `UPDATE training_runs SET state = 'running', owner_pid = ?, cancel_requested = 0, error = NULL, finished_at = NULL, started_at = COALESCE(started_at, ?)
         WHERE id = ? AND state IN ('queued', 'interrupted', 'failed', 'cancelled')`,
      )
      .run(pid, now, id).changes;
    return changed === 1;
  }

  /** Records one step (a step redone after a resume replaces the first try's row). */
  recordStep(id: string, stage: 1 | 2, s: RunStep): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT OR REPLACE INTO training_steps (run_id, step, stage, loss, l_fg, l_bg, l_sm, grad_norm, ms, rss_mb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(id, s.step, s.stage, s.loss, s.lFg, s.lBg, s.lSm, s.gradNorm, s.ms, s.rssMb);
      this.db.prepare('UPDATE training_runs SET step = ?, stage = ? WHERE id = ?').run(s.step, stage, id);
    })();
  }

  /** Steps after the last checkpoint are taken again on resume: their rows go. */
  rewindTo(id: string, step: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM training_steps WHERE run_id = ? AND step > ?').run(id, step);
      this.db.prepare('UPDATE training_runs SET step = ? WHERE id = ?').run(step, id);
    })();
  }

  checkpointed(id: string, step: number): void {
    this.db.prepare('UPDATE training_runs SET checkpoint_step = ? WHERE id = ?').run(step, id);
  }

  log(id: string, line: string): void {
    const row = this.db.prepare('SELECT log_json FROM training_runs WHERE id = ?').get(id) as { log_json: string } | undefined;
    if (!row) return;
    const log = [...(JSON.parse(row.log_json) as string[]), line].slice(-200);
    this.db.prepare('UPDATE training_runs SET log_json = ? WHERE id = ?').run(JSON.stringify(log), id);
  }

  finish(
    id: string,
    state: Extract<RunState, 'succeeded' | 'failed' | 'cancelled' | 'interrupted'>,
    details: { error?: string; conceptId?: string } = {},
  ): void {
    this.db
      .prepare('UPDATE training_runs SET state = ?, error = ?, concept_id = COALESCE(?, concept_id), owner_pid = NULL, finished_at = ? WHERE id = ?')
      .run(state, details.error ?? null, details.conceptId ?? null, new Date().toISOString(), id);
  }

  /** Puts an ended run back in the queue, behind the others. */
  requeue(id: string): void {
    const run = this.get(id);
    if (run.state === 'succeeded') throw new AppError('conflict', `Run ${id} has already finished; its concept is ${run.conceptId}.`);
    if (ACTIVE.includes(run.state)) throw new AppError('conflict', `Run ${id} is ${run.state} already.`);
    this.db.prepare("UPDATE training_runs SET state = 'queued', queue_order = ?, error = NULL, finished_at = NULL WHERE id = ?").run(this.nextInQueue(), id);
  }

  /** A queued run is cancelled at once; a running one is asked to stop at its next step (it may run in another process). */
  requestCancel(id: string): TrainingRun {
    const run = this.get(id);
    if (run.state === 'queued') this.finish(id, 'cancelled', { error: 'Cancelled before it started.' });
    else if (run.state === 'running') this.db.prepare('UPDATE training_runs SET cancel_requested = 1 WHERE id = ?').run(id);
    else throw new AppError('conflict', `Run ${id} is ${run.state}; only queued or running runs can be cancelled.`);
    return this.get(id);
  }

  cancelRequested(id: string): boolean {
    const row = this.db.prepare('SELECT cancel_requested FROM training_runs WHERE id = ?').get(id) as { cancel_requested: number } | undefined;
    return row?.cancel_requested === 1;
  }

  /**
   * Moves a waiting run in the queue: one place up or down, or to its front or end. The running run is not
   * in the queue; the order is the one the queue takes runs in (its next run is the first).
   */
  moveQueued(id: string, to: QueueMove): TrainingRun[] {
    const run = this.get(id);
    if (run.state !== 'queued') throw new AppError('conflict', `Run ${run.name} is ${run.state}, not waiting in the queue: only waiting runs move.`);
    this.db.transaction(() => {
      const order = this.queued().map((r) => r.id);
      const from = order.indexOf(id);
      const target = { up: from - 1, down: from + 1, first: 0, last: order.length - 1 }[to];
      order.splice(from, 1);
      order.splice(Math.min(order.length, Math.max(0, target)), 0, id);
      // the queue's positions are rewritten in order (below any new run's, which goes last)
      const set = this.db.prepare('UPDATE training_runs SET queue_order = ? WHERE id = ?');
      const base = this.nextInQueue();
      order.forEach((rid, i) => set.run(base + i, rid));
    })();
    return this.queued();
  }

  /** The queue position after every run's: new and requeued runs go last. */
  private nextInQueue(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(queue_order), 0) + 1 AS n FROM training_runs').get() as { n: number }).n;
  }

  /** Runs left 'running' by a process that is gone (killed, crashed, power cut) become 'interrupted'. */
  markOrphansInterrupted(isAlive: (pid: number) => boolean = processAlive): number {
    const rows = this.db.prepare("SELECT id, owner_pid FROM training_runs WHERE state = 'running'").all() as Array<{ id: string; owner_pid: number | null }>;
    let n = 0;
    for (const r of rows) {
      if (r.owner_pid !== null && isAlive(r.owner_pid)) continue;
      this.finish(r.id, 'interrupted', { error: 'The process running it stopped (closed, killed or crashed). Resume it to go on from its last checkpoint.' });
      n++;
    }
    return n;
  }
}

function toRun(r: RunRow): TrainingRun {
  return {
    id: r.id,
    name: r.name,
    classWord: r.class_word,
    imageId: r.image_id,
    maskId: r.mask_id,
    modelId: r.model_id,
    modelRef: r.model_ref,
    settings: learnSettings.parse(JSON.parse(r.settings_json)),
    state: r.state,
    stage: r.stage === 2 ? 2 : 1,
    step: r.step,
    totalSteps: r.total_steps,
    checkpointStep: r.checkpoint_step,
    error: r.error,
    conceptId: r.concept_id,
    log: JSON.parse(r.log_json) as string[],
    queueOrder: r.queue_order,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}
