// Toasts: a long message shows its first sentence, the rest on request; every message leaves on its own (errors
// later, counted unread), stays in the list, and belongs to the screen that raised it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Notifications, summaryOf, TOAST_LIFETIME_MS } from '../../src-renderer/src/lib/state/notifications.svelte.js';

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
    expect(summaryOf('x'.repeat(400))).toBe(`${'x'.repeat(139)}…`);
  });

  it('lets messages leave on their own, errors later and counted unread; every one stays in the list', () => {
    const n = new Notifications();
    n.push('success', 'Imported 1 photo.');
    n.push('error', 'Could not delete dog.jpg.');
    vi.advanceTimersByTime(TOAST_LIFETIME_MS.success);
    expect(n.items.map((t) => t.text)).toEqual(['Could not delete dog.jpg.']);
    expect(n.unread).toBe(0);
    vi.advanceTimersByTime(TOAST_LIFETIME_MS.error - TOAST_LIFETIME_MS.success);
    expect(n.items).toEqual([]);
    expect(n.unread).toBe(1);
    expect(n.log.map((t) => t.text)).toEqual(['Could not delete dog.jpg.', 'Imported 1 photo.']);
    n.markRead();
    expect(n.unread).toBe(0);
    // dismissed by hand: read, gone from view, still listed
    n.push('error', 'Disk full.');
    n.dismiss(n.items[0]!.id);
    vi.advanceTimersByTime(TOAST_LIFETIME_MS.error);
    expect(n.unread).toBe(0);
    expect(n.log).toHaveLength(3);
  });

  it('keeps a message open while its details are read', () => {
    const n = new Notifications();
    n.push('error', LONG_ERROR);
    n.toggleDetails(n.items[0]!.id);
    vi.advanceTimersByTime(TOAST_LIFETIME_MS.error * 3);
    expect(n.items).toHaveLength(1);
    n.toggleDetails(n.items[0]!.id);
    vi.advanceTimersByTime(TOAST_LIFETIME_MS.error);
    expect(n.items).toEqual([]);
  });

  it("shows a screen's messages on that screen only; a job's result on every screen", () => {
    const n = new Notifications();
    n.showScreen('masks');
    n.push('error', 'Name the class word first.');
    n.push('success', 'Drawn: 1 image.', { screen: null, action: { label: 'See in the Gallery', href: '#/gallery' } });
    expect(n.items.map((t) => t.screen)).toEqual(['masks', null]);
    n.showScreen('library');
    expect(n.items.map((t) => t.text)).toEqual(['Drawn: 1 image.']);
    expect(n.items[0]!.action).toEqual({ label: 'See in the Gallery', href: '#/gallery' });
    // it left unseen: counted unread in the list
    expect(n.unread).toBe(1);
    n.push('info', 'Imported 2 photos.');
    expect(n.items.at(-1)!.screen).toBe('library');
  });
});
