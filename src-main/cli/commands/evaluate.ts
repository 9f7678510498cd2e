import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROVIDER_CHOICES, type ProviderChoice } from '../../../src-preload/contract/common.js';
import { EVALUATION_SETS, type EvaluationReport, type EvaluationSetName, METRIC_KEYS, METRICS } from '../../../src-preload/contract/evaluations.js';
import { evaluateConcept } from '../../pipeline/evaluate/evaluate-concept.js';
import { paperValue } from '../../pipeline/evaluate/metric-math.js';
import { EVALUATION_SETS as SET_SIZES } from '../../pipeline/evaluate/prompt-set.js';
import { exportReport } from '../../pipeline/evaluate/report-export.js';
import type { Command } from '../command.js';
import { intOption, JSON_OPTION, UsageError, withLibrary } from '../command.js';

/** A concept named on the command line: its id, or its exact name when no other concept has it. */
function conceptByName(concepts: ReadonlyArray<{ id: string; name: string }>, name: string): string {
  const found = concepts.filter((c) => c.name === name);
  if (found.length === 1) return found[0]!.id;
  if (found.length === 0) throw new UsageError(`No concept is called "${name}"; give its id (see \`singleinsert library list\`)`);
  throw new UsageError(`${found.length} concepts are called "${name}" (${found.map((c) => c.id).join(', ')}); give one's id`);
}

const num = (v: number | null) => (v === null ? '—' : v.toFixed(3));

/** The report card as text: each metric beside the paper's, what is weak, how it was measured and what it cost. */
export function reportText(r: EvaluationReport): string[] {
  const s = r.set;
  const lines = [
    `${r.id}  ${r.conceptName}${r.label !== r.conceptName ? ` (${r.label})` : ''}: Stage ${r.stage === 1 ? 'I' : 'II'} concept, ${s.name} set`,
    `set       ${s.prompts.length} prompts × ${s.seeds} seeds (prompt file v${s.promptFileVersion}, list "${s.list}"), ${s.sampler} ${s.steps} steps, guidance ${s.guidance}, ${s.width}×${s.height}`,
    '',
    'metric    value   paper   what it says',
  ];
  for (const k of METRIC_KEYS) {
    const m = r.metrics[k];
    const paper = paperValue(k, r.stage);
    lines.push(
      `${METRICS[k].label.padEnd(9)} ${num(m.value).padEnd(7)} ${(paper === null ? '—' : String(paper)).padEnd(7)} ${m.missing ? `not measured: ${m.missing}` : METRICS[k].meaning}`,
    );
  }
  lines.push('');
  if (r.weak.length === 0) lines.push('weak      nothing is worse than the paper by more than its slack');
  r.weak.forEach((w, i) => lines.push(`${i === 0 ? 'weak' : ''.padEnd(4)}      ${w}`));
  lines.push(`judge     ${r.judge.rule}`);
  lines.push(
    `models    SD ${r.models.sd}; CLIP ${r.models.clip ?? 'none'}; DINO ${r.models.dino ?? 'none'}; LPIPS ${r.models.lpips ?? 'none'}; subject masks from ${r.models.segmentation}`,
  );
  lines.push(
    `cost      ${r.cost.seconds.toFixed(0)} s for ${r.cost.images} images on ${r.cost.provider}, the process's peak memory ${(r.cost.peakRssBytes / 2 ** 30).toFixed(2)} GiB`,
  );
  return lines;
}

/** Two or more reports side by side, with the change from the first. */
export function comparisonText(reports: readonly EvaluationReport[]): string[] {
  const head = ['metric'.padEnd(9), ...reports.map((r) => r.label.slice(0, 16).padEnd(16))].join(' ');
  const rows = METRIC_KEYS.map((k) => {
    const first = reports[0]!.metrics[k].value;
    const cells = reports.map((r, i) => {
      const v = r.metrics[k].value;
      const delta = i > 0 && v !== null && first !== null ? ` (${v - first >= 0 ? '+' : ''}${(v - first).toFixed(3)})` : '';
      return `${num(v)}${delta}`.padEnd(16);
    });
    return [METRICS[k].label.padEnd(9), ...cells, METRICS[k].better === 'higher' ? '↑ better' : '↓ better'].join(' ');
  });
  return [head, ...rows];
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary:
    "Measure a concept with the SingleInsert paper's metrics (CLIP-I-f/-b, DINO-f/-b, CLIP-T, DIV, ESR) on a fixed, seeded set of editing prompts, " +
    'beside the paper’s Table 1; the report is kept in the library (`singleinsert evaluations`).',
  usage: `evaluate <concept-id|name> --model <sd-model> [--set ${EVALUATION_SETS.join('|')}] [--full] [--label "…"] [--prompts N] [--seeds N] [--steps N] [--provider …] [--json] [--csv file]`,
  options: {
    model: { type: 'string', value: '<dir|file|model>', description: 'The SD 1.x model to draw with (the one the concept was learned on).' },
    set: {
      type: 'string',
      value: EVALUATION_SETS.join('|'),
      description: `default: ${SET_SIZES.default.prompts} prompts × ${SET_SIZES.default.seeds} seeds, ${SET_SIZES.default.steps} DPM++ 2M Karras steps (a CPU draft); full: every prompt × ${SET_SIZES.full.seeds} seeds, DDIM ${SET_SIZES.full.steps} (the paper's protocol).`,
      default: 'default',
    },
    full: { type: 'boolean', description: 'The same as --set full.' },
    label: {
      type: 'string',
      value: '"…"',
      description: 'What this run of the concept is, for comparisons ("Fast", "Faithful", "mask v2").',
      default: "the concept's name",
    },
    prompts: { type: 'string', value: '<n>', description: 'Use only the first N prompts of the set.' },
    seeds: { type: 'string', value: '<n>', description: 'Seeds per prompt (at least 2 for DIV).' },
    steps: { type: 'string', value: '<n>', description: 'Sampling steps per image.' },
    provider: { type: 'string', value: PROVIDER_CHOICES.join('|'), description: 'Where to run.', default: 'auto' },
    json: JSON_OPTION,
    csv: { type: 'string', value: '<file>', description: 'Also write the report as CSV (one row per image, then the means and the paper’s).' },
  },
  examples: ['singleinsert evaluate con_1a2b3c4d --model sd15', 'singleinsert evaluate con_1a2b3c4d --model sd15 --full --label Faithful --json'],
  run: async ({ positionals, values, global, io }) => {
    const conceptArg = positionals[0];
    if (!conceptArg) throw new UsageError('evaluate needs a concept id or name (see `singleinsert library list`)');
    if (!values.model) throw new UsageError('evaluate needs --model (the SD 1.x model to draw with)');
    const set = (values.full ? 'full' : (values.set ?? 'default')) as EvaluationSetName;
    if (!(EVALUATION_SETS as readonly string[]).includes(set)) throw new UsageError(`--set must be one of ${EVALUATION_SETS.join(', ')}`);
    const provider = (values.provider ?? 'auto') as ProviderChoice;
    if (!(PROVIDER_CHOICES as readonly string[]).includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDER_CHOICES.join(', ')}`);
    const overrides = {
      ...(values.prompts !== undefined ? { prompts: intOption(values, 'prompts', 1, 100)! } : {}),
      ...(values.seeds !== undefined ? { seeds: intOption(values, 'seeds', 1, 16)! } : {}),
      ...(values.steps !== undefined ? { steps: intOption(values, 'steps', 1, 1000)! } : {}),
    };
    return withLibrary(global, async (library) => {
      const conceptId = conceptArg.startsWith('con_') ? conceptArg : conceptByName(library.concepts.list(), conceptArg);
      let shown = '';
      const report = await evaluateConcept(
        library,
        { conceptId, model: String(values.model), set, provider, overrides, ...(values.label ? { label: String(values.label) } : {}) },
        {
          onNote: (note) => io.err(`Note: ${note}`),
          onProgress: (p) => {
            const line = p.phase === 'draw' ? `drawing: step ${p.done} of ${p.total}` : `measuring: image ${p.done} of ${p.total}`;
            if (line !== shown) io.err((shown = line));
          },
        },
      );
      if (values.csv) {
        const path = resolve(String(values.csv));
        writeFileSync(path, exportReport(report, 'csv').text);
        io.err(`Wrote ${path}`);
      }
      if (values.json) io.out(JSON.stringify(report));
      else for (const l of reportText(report)) io.out(l);
      return 0;
    });
  },
};

const needIds = (positionals: string[], verb: string, min = 1) => {
  if (positionals.length < min)
    throw new UsageError(`evaluations ${verb} needs ${min > 1 ? `${min} evaluation ids` : 'an evaluation id'} (see \`singleinsert evaluations list\`)`);
  return positionals;
};

export const evaluationsCommand: Command = {
  name: 'evaluations',
  summary: 'Concept report cards kept in the library: list, show, compare two runs, export as JSON or CSV, remove.',
  usage: '<list|show|compare|export|remove> …',
  children: [
    {
      name: 'list',
      summary: 'Report cards, newest first (of one concept when given).',
      usage: 'evaluations list [concept-id] [--json]',
      examples: ['singleinsert evaluations list', 'singleinsert evaluations list con_1a2b3c4d --json'],
      options: { json: JSON_OPTION },
      run: async ({ positionals, values, global, io }) =>
        withLibrary(global, (library) => {
          const list = library.evaluations.list(positionals[0]);
          if (values.json) io.out(JSON.stringify(list));
          else if (list.length === 0) io.err('No report cards yet; make one with `singleinsert evaluate <concept-id> --model <sd-model>`.');
          else
            for (const e of list)
              io.out([e.id, e.conceptId, e.set, e.label, ...METRIC_KEYS.map((k) => `${METRICS[k].label} ${num(e.metrics[k].value)}`)].join('\t'));
          return 0;
        }),
    },
    {
      name: 'show',
      summary: 'One report card.',
      usage: 'evaluations show <evaluation-id> [--json]',
      examples: ['singleinsert evaluations show evl_1a2b3c4d', 'singleinsert evaluations show evl_1a2b3c4d --json'],
      options: { json: JSON_OPTION },
      run: async ({ positionals, values, global, io }) =>
        withLibrary(global, (library) => {
          const report = library.evaluations.get(needIds(positionals, 'show')[0]!);
          if (values.json) io.out(JSON.stringify(report));
          else for (const l of reportText(report)) io.out(l);
          return 0;
        }),
    },
    {
      name: 'compare',
      summary: 'Two or more report cards side by side (Fast against Faithful, two masks, two concepts).',
      usage: 'evaluations compare <evaluation-id> <evaluation-id>… [--json]',
      examples: ['singleinsert evaluations compare evl_1a2b3c4d evl_5e6f7a8b'],
      options: { json: JSON_OPTION },
      run: async ({ positionals, values, global, io }) =>
        withLibrary(global, (library) => {
          const reports = needIds(positionals, 'compare', 2).map((id) => library.evaluations.get(id));
          if (values.json) io.out(JSON.stringify(reports.map((r) => ({ id: r.id, label: r.label, metrics: r.metrics }))));
          else for (const l of comparisonText(reports)) io.out(l);
          return 0;
        }),
    },
    {
      name: 'export',
      summary: 'Write a report card as JSON or CSV.',
      usage: 'evaluations export <evaluation-id> --format json|csv [--out file]',
      examples: ['singleinsert evaluations export evl_1a2b3c4d --format csv --out report.csv'],
      options: {
        format: { type: 'string', value: 'json|csv', description: 'The file format.', default: 'json' },
        out: { type: 'string', value: '<file>', description: 'Where to write it.', default: 'stdout' },
      },
      run: async ({ positionals, values, global, io }) =>
        withLibrary(global, (library) => {
          const format = String(values.format ?? 'json');
          if (format !== 'json' && format !== 'csv') throw new UsageError('--format must be json or csv');
          const { text } = exportReport(library.evaluations.get(needIds(positionals, 'export')[0]!), format);
          if (values.out) {
            writeFileSync(resolve(String(values.out)), text);
            io.err(`Wrote ${resolve(String(values.out))}`);
          } else io.out(text.trimEnd());
          return 0;
        }),
    },
    {
      name: 'remove',
      summary: 'Delete a report card and the images only it kept.',
      usage: 'evaluations remove <evaluation-id>',
      run: async ({ positionals, global, io }) =>
        withLibrary(global, async (library) => {
          const { removedFiles } = await library.evaluations.delete(needIds(positionals, 'remove')[0]!);
          io.err(`Removed (${removedFiles} file(s) freed).`);
          return 0;
        }),
    },
  ],
};
