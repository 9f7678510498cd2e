// Toasts: a long message shows its first sentence, the rest on request; errors stay, others leave.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Notifications, summaryOf } from '../../src-renderer/src/lib/state/notifications.svelte.js';

const LONG_ERROR =
  "tiny.safetensors: a single file does not record attention head or norm group counts, and SD 1.x's do not fit this model (text encoder config: hiddenSize = 40 is not a multiple of heads = 12). Convert it to a diffusers folder and add the folder instead.";

describe('Notifications', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('shortens a long message to its first sentence and shows the rest on request', () => {
    expect(summaryOf('Saved dog mask, version 1.')).toBeNull();
    const n = new Notifications();
    n.push('error', LONG_ERROR);
    const [toast] = n.items;
    expect(toast!.summary).toBe(
      "tiny.safetensors: a single file does not record attention head or norm group counts, and SD 1.x's do not fit this model (text encoder config: hiddenSize = 40 is not a multiple of heads = 12).",
    );
    expect(n.isExpanded(toast!.id)).toBe(false);
    n.toggleDetails(toast!.id);
    expect(n.isExpanded(toast!.id)).toBe(true);
    n.toggleDetails(toast!.id);
    expect(n.isExpanded(toast!.id)).toBe(false);
    // no sentence end within reach: cut, marked with an ellipsis
    expect(summaryOf('x'.repeat(400))).toBe(`${'x'.repeat(159)}…`);
  });

  it('keeps errors until dismissed; other messages leave after 5 s', () => {
    const n = new Notifications();
    n.push('success', 'Imported 1 photo.');
    n.push('error', 'Could not delete dog.jpg.');
    vi.advanceTimersByTime(5000);
    expect(n.items.map((t) => t.text)).toEqual(['Could not delete dog.jpg.']);
    n.dismiss(n.items[0]!.id);
    expect(n.items).toEqual([]);
  });
});
