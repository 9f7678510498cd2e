// Importing concept files (picked or dropped on the Library, or a LoRA / embedding the model manager
// registered in place): a .siconcept bundle goes in at once; embeddings and LoRAs of other tools first
// ask what the concept is (a LoRA alone is a style).
import type { ImportSource } from '../../../../src-preload/contract/index.js';
import { api, errorMessage, toImportSources } from '../api.js';
import { notifications } from './notifications.svelte.js';

/** The files the Library hands to the concept import rather than to photo import. */
export const isConceptFile = (file: File) => /\.(safetensors|siconcept)$/i.test(file.name);
const isBundle = (file: File) => /\.siconcept$/i.test(file.name);

/** Files waiting for the dialog: their names, and how to hand them to the main side. */
interface Pending {
  names: string[];
  sources: () => Promise<ImportSource[]>;
}

export class ConceptImport {
  /** The embedding / LoRA files waiting for a class word; null when no dialog is open. */
  #pending = $state.raw<Pending | null>(null);
  classWord = $state('');
  name = $state('');
  #busy = $state(false);
  #error = $state<string | null>(null);

  get pending(): Pending | null {
    return this.#pending;
  }
  get busy(): boolean {
    return this.#busy;
  }
  get error(): string | null {
    return this.#error;
  }

  /** Starts an import: bundles go in one by one at once; the rest (at most an embedding and its LoRA) wait for the dialog. */
  async start(files: File[]): Promise<void> {
    for (const bundle of files.filter(isBundle)) await this.send({ names: [bundle.name], sources: () => toImportSources([bundle]) }, {}, false);
    const rest = files.filter((f) => !isBundle(f));
    if (rest.length > 2) {
      notifications.push(
        'error',
        `${rest.length} concept files were given; a concept is one embedding and its LoRA (two files) at most. Import them in pairs.`,
      );
      return;
    }
    if (rest.length) this.ask({ names: rest.map((f) => f.name), sources: () => toImportSources(rest) });
  }

  /** A file already on this computer (a LoRA or embedding registered in place): the dialog, then an import by path. */
  startFromPath(path: string, name: string): void {
    this.ask({ names: [name], sources: async () => [{ kind: 'path', path }] });
  }

  async submit(): Promise<void> {
    if (!this.#pending) return;
    const classWord = this.classWord.trim();
    const name = this.name.trim();
    if (await this.send(this.#pending, { ...(classWord ? { classWord } : {}), ...(name ? { name } : {}) }, true)) this.cancel();
  }

  cancel(): void {
    this.#pending = null;
    this.#error = null;
  }

  private ask(pending: Pending): void {
    this.#pending = pending;
    this.name = pending.names[0]!.replace(/\.safetensors$/i, '');
    this.classWord = '';
    this.#error = null;
  }

  /** Imports; a failure is shown in the dialog (`inDialog`) or as a toast (a bundle). */
  private async send(pending: Pending, options: { classWord?: string; name?: string }, inDialog: boolean): Promise<boolean> {
    this.#busy = true;
    try {
      const { notes } = await api.library.importConcept({ sources: await pending.sources(), ...options });
      notifications.push('success', `Imported ${options.name ?? pending.names[0]} as a concept.`);
      for (const note of notes) notifications.push('info', note);
      return true;
    } catch (err) {
      if (inDialog) this.#error = errorMessage(err);
      else notifications.push('error', `${pending.names[0]}: ${errorMessage(err)}`);
      return false;
    } finally {
      this.#busy = false;
    }
  }
}
