// The evaluations table: a concept's report cards, each with the images it measured (kept in the store).
import type { Database } from 'better-sqlite3';
import { type EvaluationReport, evaluationReport, type EvaluationSummary } from '../../src-preload/contract/evaluations.js';
import { AppError } from '../common/app-error.js';
import { newId } from '../common/ids.js';
import type { Blobs } from './blobs.js';

interface EvaluationRow {
  id: string;
  concept_id: string;
  label: string;
  set_name: string;
  report_json: string;
  created_at: string;
}

export type NewEvaluation = Omit<EvaluationReport, 'id' | 'createdAt' | 'images'> & {
  images: Array<Omit<EvaluationReport['images'][number], 'sha256'> & { png: Buffer }>;
};

export class Evaluations {
  constructor(
    private readonly db: Database,
    private readonly blobs: Blobs,
  ) {}

  /** Stores the images first, then the report and its image rows in one transaction. */
  async add(input: NewEvaluation): Promise<EvaluationReport> {
    const stored: Array<{ image: NewEvaluation['images'][number]; sha256: string; size: number }> = [];
    for (const image of input.images) stored.push({ image, ...(await this.blobs.store.put(image.png)) });
    const id = newId('evl');
    const now = new Date().toISOString();
    const report: EvaluationReport = evaluationReport.parse({
      ...input,
      id,
      createdAt: now,
      images: stored.map(({ image: { png: _png, ...rest }, sha256 }) => ({ ...rest, sha256 })),
    });
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO evaluations (id, concept_id, label, set_name, report_json, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, report.conceptId, report.label, report.set.name, JSON.stringify(report), now);
      const link = this.db.prepare('INSERT INTO evaluation_images (evaluation_id, position, sha256) VALUES (?, ?, ?)');
      stored.forEach(({ sha256, size }, position) => {
        this.blobs.insert({ sha256, size, mime: 'image/png' }, now);
        link.run(id, position, sha256);
      });
    })();
    return report;
  }

  get(id: string): EvaluationReport {
    const row = this.db.prepare('SELECT * FROM evaluations WHERE id = ?').get(id) as EvaluationRow | undefined;
    if (!row) throw new AppError('not-found', `No evaluation ${id} (see \`singleinsert evaluate --list\`).`);
    return evaluationReport.parse(JSON.parse(row.report_json));
  }

  /** Newest first; of one concept when given. */
  list(conceptId?: string): EvaluationSummary[] {
    const rows = (
      conceptId
        ? this.db.prepare('SELECT * FROM evaluations WHERE concept_id = ? ORDER BY created_at DESC, id').all(conceptId)
        : this.db.prepare('SELECT * FROM evaluations ORDER BY created_at DESC, id').all()
    ) as EvaluationRow[];
    return rows.map((r) => {
      const report = evaluationReport.parse(JSON.parse(r.report_json));
      const { id, conceptId: concept, conceptName, label, stage, metrics, createdAt } = report;
      return { id, conceptId: concept, conceptName, label, stage, metrics, createdAt, set: report.set.name };
    });
  }

  async delete(id: string): Promise<{ removedFiles: number }> {
    this.get(id);
    return this.blobs.deleteRowsThenFiles(() => this.db.prepare('DELETE FROM evaluations WHERE id = ?').run(id));
  }
}
