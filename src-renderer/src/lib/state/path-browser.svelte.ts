// The path picker: walks the folders of the machine the app runs on (through the main side, which web mode
// needs: browsers give pages no file paths) and hands back the file or folder the person picks.
import type { FolderListing } from '../../../../src-preload/contract/index.js';
import { api, errorMessage } from '../api.js';

export type PickKind = 'file' | 'folder';

export class PathBrowser {
  #listing = $state.raw<FolderListing | null>(null);
  #kind = $state<PickKind>('file');
  #error = $state<string | null>(null);
  #onPick = $state.raw<((path: string) => void) | null>(null);

  get listing(): FolderListing | null {
    return this.#listing;
  }
  get kind(): PickKind {
    return this.#kind;
  }
  get error(): string | null {
    return this.#error;
  }
  get isOpen(): boolean {
    return this.#onPick !== null;
  }

  /** Opens at `start` (a file's folder, or a folder; the home folder when empty). */
  async open(kind: PickKind, start: string, onPick: (path: string) => void): Promise<void> {
    this.#kind = kind;
    this.#onPick = onPick;
    this.#listing = null;
    const trimmed = start.trim();
    if (!(await this.go(trimmed || undefined)) && trimmed) await this.go(undefined);
  }

  /** Shows a folder; false (with the reason shown) when it cannot be read. */
  async go(path: string | undefined): Promise<boolean> {
    try {
      this.#listing = await api.system.browse(path ? { path } : {});
      this.#error = null;
      return true;
    } catch (err) {
      // a file given as the start: show its folder
      if (path && this.#listing === null) {
        const parent = path.replace(/[\\/][^\\/]*$/, '');
        if (parent && parent !== path) return this.go(parent);
      }
      this.#error = errorMessage(err);
      return false;
    }
  }

  /** A file picks itself when files are wanted; a folder opens. */
  async choose(entry: FolderListing['entries'][number]): Promise<void> {
    if (entry.kind === 'folder') await this.go(entry.path);
    else if (this.#kind === 'file') this.#pick(entry.path);
  }

  /** Picks the folder on show (when folders are wanted). */
  pickCurrent(): void {
    if (this.#listing) this.#pick(this.#listing.path);
  }

  close(): void {
    this.#onPick = null;
    this.#listing = null;
  }

  #pick(path: string): void {
    const onPick = this.#onPick;
    this.close();
    onPick?.(path);
  }
}
