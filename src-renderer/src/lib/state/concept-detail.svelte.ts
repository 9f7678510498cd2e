// One concept's detail view: what it was learned from (photo, mask, model, settings, losses, previews) and what
// the person adds (name, notes, tags).
import type { ConceptRecord, MaskRecord, ModelRecord, RunPreview, RunStep, TrainingRun } from '../../../../src-preload/contract/index.js';
import { EXPORTS_FOLDER } from '../../../../src-preload/contract/index.js';
import { api, errorMessage, exportUrl } from '../api.js';
import { notifications } from './notifications.svelte.js';

export class ConceptDetailState {
  #run = $state.raw<TrainingRun | null>(null);
  #steps = $state.raw<RunStep[]>([]);
  #previews = $state.raw<RunPreview[]>([]);
  #mask = $state.raw<MaskRecord | null>(null);
  #model = $state.raw<ModelRecord | null>(null);
  #saving = $state(false);
  name = $state('');
  notes = $state('');
  /** Tags as typed: comma-separated. */
  tags = $state('');

  /** `current` gives the concept as the library has it now (it changes after a save). */
  constructor(private readonly current: () => ConceptRecord) {
    const concept = current();
    this.name = concept.name;
    this.notes = concept.notes;
    this.tags = concept.tags.join(', ');
    void this.load(concept);
  }

  get concept(): ConceptRecord {
    return this.current();
  }

  get run(): TrainingRun | null {
    return this.#run;
  }
  get steps(): RunStep[] {
    return this.#steps;
  }
  get previews(): RunPreview[] {
    return this.#previews;
  }
  get mask(): MaskRecord | null {
    return this.#mask;
  }
  get model(): ModelRecord | null {
    return this.#model;
  }
  get saving(): boolean {
    return this.#saving;
  }

  readonly dirty = $derived.by(
    () => this.name.trim() !== this.concept.name || this.notes !== this.concept.notes || this.tagList().join(',') !== this.concept.tags.join(','),
  );

  private tagList(): string[] {
    return [
      ...new Set(
        this.tags
          .split(',')
          .map((t) => t.trim().toLowerCase())
          .filter(Boolean),
      ),
    ].sort();
  }

  private async load(concept: ConceptRecord): Promise<void> {
    try {
      const [made, models, masks] = await Promise.all([
        api.training.ofConcept({ conceptId: concept.id }),
        api.models.list({}),
        concept.imageId ? api.masks.list({ imageId: concept.imageId }) : Promise.resolve([]),
      ]);
      this.#run = made?.run ?? null;
      this.#steps = made?.steps ?? [];
      this.#previews = made?.previews ?? [];
      this.#model = models.find((m) => m.id === concept.baseModelId) ?? null;
      this.#mask = masks.find((m) => m.id === concept.maskId) ?? null;
    } catch (err) {
      notifications.push('error', `The concept's details could not be read: ${errorMessage(err)}`);
    }
  }

  /** Export for another tool: the format, the folder, and what the last export wrote. */
  exportFormat = $state<'a1111' | 'diffusers'>('a1111');
  exportDir = $state('');
  #exported = $state.raw<{ files: string[]; prompt: string } | null>(null);
  get exported(): { files: string[]; prompt: string } | null {
    return this.#exported;
  }

  /** The exported files the browser can download (web mode, the library's exports folder): a name and its link. */
  readonly downloads = $derived.by(() => {
    const exported = this.#exported;
    if (!exported || !this.#exportsRoot) return [];
    const root = `${this.#exportsRoot}/`;
    return exported.files.flatMap((f) => {
      const rel = f.replace(/\\/g, '/');
      const url = rel.startsWith(root) ? exportUrl(rel.slice(root.length)) : null;
      return url ? [{ name: rel.slice(root.length), url }] : [];
    });
  });
  #exportsRoot = $state<string | null>(null);

  async export(): Promise<void> {
    try {
      const root = `${(await api.library.stats({})).dataDir.replace(/\\/g, '/')}/${EXPORTS_FOLDER}`;
      this.#exportsRoot = root;
      if (!this.exportDir.trim()) this.exportDir = root;
      this.#exported = await api.library.exportConcept({ id: this.concept.id, format: this.exportFormat, dir: this.exportDir.trim() });
      notifications.push('success', `Exported ${this.concept.name} (${this.#exported.files.length} files).`);
    } catch (err) {
      notifications.push('error', `The export failed: ${errorMessage(err)}`);
    }
  }

  async save(): Promise<void> {
    if (!this.name.trim()) {
      notifications.push('error', 'A concept needs a name.');
      return;
    }
    this.#saving = true;
    try {
      const tags = this.tagList();
      await api.library.updateConcept({ id: this.concept.id, name: this.name.trim(), notes: this.notes, tags });
      this.tags = tags.join(', ');
      notifications.push('success', `Saved ${this.name.trim()}.`);
    } catch (err) {
      notifications.push('error', errorMessage(err));
    } finally {
      this.#saving = false;
    }
  }
}

/** The Library's search and filters over concepts: text (name, class word, tags), class word, tag, base model. */
export class ConceptFilter {
  text = $state('');
  classWord = $state('');
  tag = $state('');
  model = $state('');

  matches(c: ConceptRecord): boolean {
    const q = this.text.trim().toLowerCase();
    if (q && ![c.name, c.classWord, ...c.tags].some((s) => s.toLowerCase().includes(q))) return false;
    if (this.classWord && c.classWord !== this.classWord) return false;
    if (this.tag && !c.tags.includes(this.tag)) return false;
    if (this.model && c.baseModelId !== this.model) return false;
    return true;
  }

  get active(): boolean {
    return !!(this.text.trim() || this.classWord || this.tag || this.model);
  }

  clear(): void {
    this.text = this.classWord = this.tag = this.model = '';
  }
}
