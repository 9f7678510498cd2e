// One manager per editor tool: each turns pointer input (in image pixels) into editor actions.
import type { Box } from '../../../../src-preload/contract/masks.js';
import type { MaskEditor } from './mask-editor.svelte.js';
import type { ToolId } from './mask-view.svelte.js';

export type ImagePoint = [number, number];

export interface ToolManager {
  down(p: ImagePoint, e: PointerEvent): void;
  move(p: ImagePoint, e: PointerEvent): void;
  up(p: ImagePoint, e: PointerEvent): void;
}

/** SAM point: left click includes, right click or Alt+click excludes. */
export class PointTool implements ToolManager {
  constructor(private readonly editor: MaskEditor) {}
  down([x, y]: ImagePoint, e: PointerEvent) {
    void this.editor.addPoint({ x, y, positive: e.button === 0 && !e.altKey });
  }
  move() {}
  up() {}
}

/** SAM box: drag a rectangle around the subject. */
export class BoxTool implements ToolManager {
  /** The rectangle being dragged, for the view to draw. */
  dragging = $state.raw<Box | null>(null);
  constructor(private readonly editor: MaskEditor) {}
  down([x, y]: ImagePoint) {
    this.dragging = { x0: x, y0: y, x1: x, y1: y };
  }
  move([x, y]: ImagePoint) {
    if (this.dragging) this.dragging = { ...this.dragging, x1: x, y1: y };
  }
  up([x, y]: ImagePoint) {
    const box = this.dragging;
    this.dragging = null;
    if (box) void this.editor.setBox({ ...box, x1: x, y1: y });
  }
}

/** Brush and eraser: one undo step per stroke; the mask changes in place while the pointer moves. */
export class BrushTool implements ToolManager {
  private last: ImagePoint | null = null;
  constructor(private readonly editor: MaskEditor) {}
  down(p: ImagePoint) {
    this.editor.doc.beginStroke();
    this.editor.strokeTo(p, p);
    this.last = p;
  }
  move(p: ImagePoint) {
    if (!this.last) return;
    this.editor.strokeTo(this.last, p);
    this.last = p;
  }
  up() {
    if (!this.last) return;
    this.last = null;
    this.editor.doc.endStroke();
  }
}

export function createTools(editor: MaskEditor): Record<ToolId, ToolManager> & { box: BoxTool } {
  const brush = new BrushTool(editor);
  return { point: new PointTool(editor), box: new BoxTool(editor), brush, eraser: brush };
}
