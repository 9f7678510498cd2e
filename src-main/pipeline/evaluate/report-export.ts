// A report card as a file a person keeps or opens in a spreadsheet: the stored report as JSON, or CSV with one
// row per image, then the averages and the paper's Table 1 beside them.
import { type EvaluationReport, METRIC_KEYS, METRICS } from '../../../src-preload/contract/evaluations.js';
import { paperValue } from './metric-math.js';

const cell = (v: string | number | boolean | null): string => {
  if (v === null) return '';
  const s = typeof v === 'number' ? String(Number(v.toFixed(6))) : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

const IMAGE_SCORES = ['clipIF', 'clipIB', 'dinoF', 'dinoB', 'clipT'] as const;

export function reportCsv(report: EvaluationReport): string {
  const header = ['row', 'prompt', 'seed', ...METRIC_KEYS.map((k) => METRICS[k].label), 'edited', 'mask', 'image_sha256'];
  const rows: Array<Array<string | number | boolean | null>> = report.images.map((image) => [
    'image',
    report.set.prompts[image.promptIndex]!.prompt,
    image.seed,
    ...METRIC_KEYS.map((k) => ((IMAGE_SCORES as readonly string[]).includes(k) ? image.scores[k as (typeof IMAGE_SCORES)[number]] : null)),
    image.edited,
    image.maskSource,
    image.sha256,
  ]);
  rows.push(['mean', '', '', ...METRIC_KEYS.map((k) => report.metrics[k].value), '', '', '']);
  rows.push([`paper (Stage ${report.stage})`, '', '', ...METRIC_KEYS.map((k) => paperValue(k, report.stage)), '', '', '']);
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

export function exportReport(report: EvaluationReport, format: 'json' | 'csv'): { fileName: string; text: string } {
  const base = `${report.conceptName.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'concept'}-${report.id}`;
  return format === 'json' ? { fileName: `${base}.json`, text: JSON.stringify(report, null, 2) + '\n' } : { fileName: `${base}.csv`, text: reportCsv(report) };
}
