import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatDuration, formatMemory, memoryOf, smoothed } from '../../../src-preload/contract/run-progress.js';
import { QUEUE_MOVES, type QueueMove, type TrainingRun } from '../../../src-preload/contract/training.js';
import { resumeRun } from '../../pipeline/learn/learning-service.js';
import type { Command } from '../command.js';
import { JSON_OPTION, UsageError, withLibrary } from '../command.js';
import { runWithProgress } from './learn.js';

const needId = (positionals: string[], verb: string) => {
  const id = positionals[0];
  if (!id) throw new UsageError(`runs ${verb} needs a run id (see \`singleinsert runs list\`)`);
  return id;
};

const line = (r: TrainingRun) => [r.id, r.state.padEnd(11), `${r.step}/${r.totalSteps}`.padEnd(9), r.conceptId ?? '-', r.name].join('\t');

const list: Command = {
  name: 'list',
  summary: 'Training runs, newest first: state, steps done, the concept each made.',
  usage: 'runs list [--json]',
  options: { json: JSON_OPTION },
  examples: ['singleinsert runs list'],
  run: async ({ values, global, io }) => {
    return withLibrary(global, async (library) => {
      const runs = library.runs.list();
      if (values.json) io.out(JSON.stringify(runs));
      else if (runs.length === 0) io.err('No training runs yet; start one with `singleinsert learn <image-id> --class … --model …`.');
      else for (const r of runs) io.out(line(r));
      return 0;
    });
  },
};

const show: Command = {
  name: 'show',
  summary: 'One run: its settings, where it stands, its losses and its log.',
  usage: 'runs show <run-id> [--json]',
  options: { json: JSON_OPTION },
  examples: ['singleinsert runs show run_1a2b3c4d'],
  run: async ({ positionals, values, global, io }) => {
    const id = needId(positionals, 'show');
    return withLibrary(global, async (library) => {
      const detail = library.runs.detail(id);
      const { run, steps, previews } = detail;
      if (values.json) {
        io.out(JSON.stringify(detail));
        return 0;
      }
      const memory = memoryOf(steps);
      const avg = smoothed(steps.map((s) => s.loss));
      const ms = steps.reduce((a, s) => a + s.ms, 0);
      io.out(`${run.id}  ${run.name}`);
      io.out(`state        ${run.state}${run.error ? ` — ${run.error}` : ''}`);
      io.out(`progress     step ${run.step} of ${run.totalSteps} (Stage ${run.stage === 1 ? 'I' : 'II'}); last checkpoint at step ${run.checkpointStep}`);
      io.out(`photo, mask  ${run.imageId ?? '(deleted)'}, ${run.maskId ?? '(deleted)'}; class word "${run.classWord}"`);
      io.out(`model        ${run.modelRef}`);
      io.out(
        `settings     ${Object.entries(run.settings)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
      );
      if (steps.length) io.out(`loss         last ${steps.at(-1)!.loss.toFixed(5)}, smoothed ${avg.at(-1)!.toFixed(5)}; ${formatDuration(ms)} of steps`);
      if (memory) io.out(`memory       ${formatMemory(memory.lastMb)} after the last step, at most ${formatMemory(memory.peakMb)}`);
      if (previews.length)
        io.out(
          `previews     ${previews.length} at steps ${[...new Set(previews.map((p) => p.step))].join(', ')} (\`singleinsert runs previews ${run.id} --out <folder>\`)`,
        );
      if (run.conceptId) io.out(`concept      ${run.conceptId}`);
      for (const l of run.log) io.out(`  ${l}`);
      return 0;
    });
  },
};

const resume: Command = {
  name: 'resume',
  summary: 'Go on with an interrupted, failed or cancelled run from its last checkpoint, here in the foreground.',
  usage: 'runs resume <run-id> [--json]',
  options: { json: JSON_OPTION },
  examples: ['singleinsert runs resume run_1a2b3c4d'],
  run: async ({ positionals, values, global, io }) => {
    const id = needId(positionals, 'resume');
    return withLibrary(global, async (library) => {
      const run = resumeRun(library, id);
      io.err(`Run ${run.id}: going on from step ${run.checkpointStep} of ${run.totalSteps}.`);
      await runWithProgress(library, run.id, io, values.json === true);
      return 0;
    });
  },
};

const cancel: Command = {
  name: 'cancel',
  summary: 'Cancel a queued run, or ask a running one (in the app or another command) to stop at its next step; its last checkpoint is kept.',
  usage: 'runs cancel <run-id>',
  run: async ({ positionals, global, io }) => {
    const id = needId(positionals, 'cancel');
    return withLibrary(global, async (library) => {
      const run = library.runs.requestCancel(id);
      io.err(run.state === 'cancelled' ? `Run ${id} cancelled.` : `Run ${id} will stop at its next step.`);
      return 0;
    });
  },
};

const move: Command = {
  name: 'move',
  summary: 'Move a waiting run in the queue: up or down a place, or to its front (next to run) or end.',
  usage: `runs move <run-id> <${QUEUE_MOVES.join('|')}>`,
  examples: ['singleinsert runs move run_1a2b3c4d first'],
  run: async ({ positionals, global, io }) => {
    const id = needId(positionals, 'move');
    const to = positionals[1] as QueueMove | undefined;
    if (!to || !QUEUE_MOVES.includes(to)) throw new UsageError(`runs move needs where: one of ${QUEUE_MOVES.join(', ')}.`);
    return withLibrary(global, async (library) => {
      const queue = library.runs.moveQueued(id, to);
      io.out(queue.map((r, i) => `${i + 1}. ${r.id}\t${r.name}`).join('\n'));
      return 0;
    });
  },
};

const previews: Command = {
  name: 'previews',
  summary: "Write a run's preview images (its test prompts drawn as it learned) to a folder, as step-<step>-p<prompt>.png.",
  usage: 'runs previews <run-id> --out <folder> [--step N]',
  options: {
    out: { type: 'string', value: '<folder>', description: 'The folder to write the previews into (made if missing).' },
    step: { type: 'string', value: '<n>', description: 'Only the previews drawn at this step.', default: 'every step' },
  },
  examples: ['singleinsert runs previews run_1a2b3c4d --out previews', 'singleinsert runs previews run_1a2b3c4d --out previews --step 150'],
  run: async ({ positionals, values, global, io }) => {
    const id = needId(positionals, 'previews');
    if (!values.out) throw new UsageError('runs previews needs --out <folder>');
    const step = values.step === undefined ? null : Number(values.step);
    if (step !== null && !Number.isInteger(step)) throw new UsageError(`--step takes a step number, got "${String(values.step)}"`);
    return withLibrary(global, async (library) => {
      const chosen = library.runs.previews(id).filter((p) => step === null || p.step === step);
      if (!chosen.length) {
        io.err(step === null ? `Run ${id} has no previews yet.` : `Run ${id} has no previews at step ${step}.`);
        return 1;
      }
      const dir = resolve(String(values.out));
      mkdirSync(dir, { recursive: true });
      for (const p of chosen) {
        const file = join(dir, `step-${String(p.step).padStart(5, '0')}-p${p.promptIndex}.png`);
        writeFileSync(file, await library.store.read(p.sha256));
        io.out(`${file}\t${p.prompt}${p.final ? '\t(finished concept)' : ''}`);
      }
      return 0;
    });
  },
};

const remove: Command = {
  name: 'delete',
  summary: 'Delete a run that is not running: its steps, previews and checkpoint. The concept it made stays in the library.',
  usage: 'runs delete <run-id>',
  run: async ({ positionals, global, io }) => {
    const id = needId(positionals, 'delete');
    return withLibrary(global, async (library) => {
      const { removedFiles } = await library.runs.delete(id);
      io.err(`Run ${id} deleted (${removedFiles} file${removedFiles === 1 ? '' : 's'} freed).`);
      return 0;
    });
  },
};

export const runsCommand: Command = {
  name: 'runs',
  summary: 'Training runs: list, show, previews, resume, cancel, delete.',
  usage: 'runs <list|show|previews|resume|cancel|delete> [options]',
  children: [list, show, previews, resume, cancel, move, remove],
};
