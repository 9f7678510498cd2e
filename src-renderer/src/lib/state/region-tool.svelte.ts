// The region canvas's one tool: drag a box for the concept being placed. Positions are fractions of
// the canvas (0…1), so a region fits any output size.
import type { RegionBox } from '../../../../src-preload/contract/index.js';

export class RegionTool {
  #start = $state<[number, number] | null>(null);
  #current = $state<[number, number] | null>(null);

  /** The box being dragged, as fractions, or null. */
  readonly draft = $derived<RegionBox | null>(
    this.#start && this.#current
      ? [
          Math.min(this.#start[0], this.#current[0]),
          Math.min(this.#start[1], this.#current[1]),
          Math.max(this.#start[0], this.#current[0]),
          Math.max(this.#start[1], this.#current[1]),
        ]
      : null,
  );

  begin(x: number, y: number): void {
    this.#start = [x, y];
    this.#current = [x, y];
  }

  move(x: number, y: number): void {
    if (this.#start) this.#current = [x, y];
  }

  /** Ends the drag: the box it made (the caller ignores boxes too small to be meant). */
  end(): RegionBox | null {
    const box = this.draft;
    this.#start = null;
    this.#current = null;
    return box;
  }
}

/** A pointer position as fractions of the element, clamped to it. */
export function fractionOf(e: PointerEvent, el: HTMLElement): [number, number] {
  const r = el.getBoundingClientRect();
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  return [clamp((e.clientX - r.left) / r.width), clamp((e.clientY - r.top) / r.height)];
}
