// How the mask studio shows the mask and which tool the pointer drives: settings a person changes freely,
// none of them part of the mask or its history.
export type ToolId = 'point' | 'box' | 'brush' | 'eraser';

export class MaskView {
  tool = $state<ToolId>('point');
  /** Brush diameter in image pixels, and its edge: 1 hard, lower softer. */
  brushSize = $state(32);
  hardness = $state(0.8);
  /** Pixels to grow, shrink or feather by. */
  amount = $state(4);
  overlayColor = $state('#ff3b6b');
  opacity = $state(0.5);
  /** Show the photo cut out by the mask instead of the overlay. */
  showCutout = $state(false);
}
