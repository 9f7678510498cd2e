export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
}

/** Short messages at the corner of the window; errors stay until dismissed. */
export class Notifications {
  #items = $state<Toast[]>([]);

  get items(): Toast[] {
    return this.#items;
  }
  private nextId = 1;

  push(kind: Toast['kind'], text: string): void {
    const id = this.nextId++;
    this.#items = [...this.#items, { id, kind, text }];
    if (kind !== 'error') setTimeout(() => this.dismiss(id), 5000);
  }

  dismiss(id: number): void {
    this.#items = this.#items.filter((t) => t.id !== id);
  }
}

export const notifications = new Notifications();
