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

/** The current screen, kept in the URL hash so reloads and back/forward work. */
export class Navigation {
  screen = $state<ScreenId>('library');

  constructor() {
    const read = () => {
      const id = location.hash.replace(/^#\/?/, '');
      this.screen = isScreen(id) ? id : 'library';
    };
    read();
    window.addEventListener('hashchange', read);
  }

  go(screen: ScreenId): void {
    location.hash = `/${screen}`;
  }
}

export const navigation = new Navigation();
