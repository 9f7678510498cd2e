// The mask being edited: every change is one undo step, strokes included, and a new photo starts clean.
import { describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../src-preload/contract/index.js';
import { MaskDocument } from '../../src-renderer/src/lib/state/mask-document.svelte.js';

const photo = { id: 'img_000001', width: 20, height: 10 } as ImageRecord;
const filled = (value: number) => new Uint8Array(200).fill(value);

describe('MaskDocument', () => {
  it('undoes and redoes a SAM answer, a stroke and an operation, in order', () => {
    const doc = new MaskDocument();
    doc.reset(photo);
    expect(doc.canUndo).toBe(false);
    doc.replace({ mask: filled(255), points: [{ x: 5, y: 5, positive: true }], box: null, source: 'sam' });
    expect(doc.coverage).toBe(1);
    const dirty: unknown[] = [];
    const stop = doc.onDirty((rect) => dirty.push(rect));
    doc.beginStroke();
    doc.strokeTo([10, 5], [12, 5], { diameter: 4, hardness: 1, erase: true });
    doc.endStroke();
    stop();
    expect(dirty).toHaveLength(1);
    expect(doc.source).toBe('manual');
    const afterStroke = doc.coverage;
    expect(afterStroke).toBeLessThan(1);
    doc.apply('grow', 3);
    expect(doc.coverage).toBe(1);

    doc.undo();
    expect(doc.coverage).toBe(afterStroke);
    doc.undo();
    expect(doc.coverage).toBe(1);
    expect(doc.source).toBe('sam');
    expect(doc.points).toEqual([{ x: 5, y: 5, positive: true }]);
    doc.undo();
    expect(doc.coverage).toBe(0);
    expect(doc.canUndo).toBe(false);
    doc.redo();
    doc.redo();
    expect(doc.coverage).toBe(afterStroke);
    expect(doc.canRedo).toBe(true);
  });

  it('a new photo starts with an empty mask and no history; its saved mask is not an undo step', () => {
    const doc = new MaskDocument();
    doc.reset(photo);
    doc.replace({ mask: filled(255), points: [], box: { x0: 0, y0: 0, x1: 10, y1: 10 }, source: 'auto' });
    doc.reset({ ...photo, id: 'img_000002' });
    expect(doc.coverage).toBe(0);
    expect(doc.box).toBeNull();
    doc.startFrom({ mask: filled(128), points: [], box: null, source: 'manual' });
    expect(doc.canUndo).toBe(false);
    expect(doc.inside(19, 9)).toBe(true);
    expect(doc.inside(20, 9)).toBe(false);
  });
});
