export const SCREENS = [
  { id: 'library', label: 'Library' },
  { id: 'masks', label: 'Mask studio' },
  { id: 'training', label: 'Training' },
  { id: 'compose', label: 'Compose' },
  { id: 'gallery', label: 'Gallery' },
  { id: 'settings', label: 'Settings' },
] as const;

export type ScreenId = (typeof SCREENS)[number]['id'];

const isScreen = (s: string): s is ScreenId => SCREENS.some((x) => x.id === s);

/** The current screen (and its item, as in #/masks/img_…), kept in the URL hash so reloads and back/forward work. */
export class Navigation {
  screen = $state<ScreenId>('library');
  item = $state<string | null>(null);

  constructor() {
    const read = () => {
      const [id = '', item] = location.hash.replace(/^#\/?/, '').split('/');
      this.screen = isScreen(id) ? id : 'library';
      this.item = item ? decodeURIComponent(item) : null;
    };
    read();
    window.addEventListener('hashchange', read);
  }

  go(screen: ScreenId, item?: string): void {
    location.hash = item ? `/${screen}/${encodeURIComponent(item)}` : `/${screen}`;
  }
}

export const navigation = new Navigation();
