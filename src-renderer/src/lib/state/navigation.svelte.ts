export const SCREENS = [
  { id: 'library', label: 'Library' },
  { id: 'masks', label: 'Mask studio' },
  { id: 'training', label: 'Training' },
  { id: 'compose', label: 'Compose' },
  { id: 'gallery', label: 'Gallery' },
  { id: 'settings', label: 'Settings' },
] as const;

export type ScreenId = (typeof SCREENS)[number]['id'];

/** A place in the app: a screen and its item (as in #/masks/img_…). */
export interface Place {
  screen: ScreenId;
  item: string | null;
}

/** Says whether leaving for `to` must wait for the person's answer (unsaved work); the screen then asks. */
export type LeaveGuard = (to: Place) => boolean;

const isScreen = (s: string): s is ScreenId => SCREENS.some((x) => x.id === s);

function parse(hash: string): Place {
  const [id = '', item] = hash.replace(/^#\/?/, '').split('/');
  return { screen: isScreen(id) ? id : 'library', item: item ? decodeURIComponent(item) : null };
}

const hashOf = (p: Place) => (p.item ? `#/${p.screen}/${encodeURIComponent(p.item)}` : `#/${p.screen}`);

/** The current screen (and its item), kept in the URL hash so reloads and back/forward work. */
export class Navigation {
  screen = $state<ScreenId>('library');
  item = $state<string | null>(null);
  /** Where the person asked to go while a guard holds them (null when nobody is asked). */
  #pending = $state.raw<Place | null>(null);
  #guard: LeaveGuard | null = null;
  #passing = false;

  constructor() {
    const read = () => {
      const to = parse(location.hash);
      const here: Place = { screen: this.screen, item: this.item };
      if (!this.#passing && this.#guard && hashOf(to) !== hashOf(here) && this.#guard(to)) {
        // the address changed already: it goes back until the person answers
        history.replaceState(null, '', hashOf(here));
        this.#pending = to;
        return;
      }
      this.#passing = false;
      this.screen = to.screen;
      this.item = to.item;
    };
    const first = parse(location.hash);
    this.screen = first.screen;
    this.item = first.item;
    window.addEventListener('hashchange', read);
  }

  get pending(): Place | null {
    return this.#pending;
  }

  go(screen: ScreenId, item?: string): void {
    location.hash = hashOf({ screen, item: item ?? null });
  }

  /** The same, in place of the current history entry (an item handled once: Back does not bring it again). */
  replace(screen: ScreenId, item?: string): void {
    history.replaceState(null, '', hashOf({ screen, item: item ?? null }));
    this.screen = screen;
    this.item = item ?? null;
  }

  /** One guard at a time: the screen with unsaved work sets it, and clears it (null) when it goes. */
  setGuard(guard: LeaveGuard | null): void {
    this.#guard = guard;
    if (!guard) this.#pending = null;
  }

  /** The person chose to leave: go where they asked. */
  proceed(): void {
    const to = this.#pending;
    this.#pending = null;
    if (!to) return;
    this.#passing = true;
    location.hash = hashOf(to);
  }

  /** The person chose to stay. */
  stay(): void {
    this.#pending = null;
  }
}

export const navigation = new Navigation();
