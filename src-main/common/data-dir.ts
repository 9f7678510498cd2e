import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_NAME = 'SingleInsert Studio';

/**
 * The library's folder. The CLI, web mode and Electron agree on it so they share
 * one library: it matches Electron's app.getPath('userData') for APP_NAME.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.SINGLEINSERT_DATA_DIR) return env.SINGLEINSERT_DATA_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_NAME);
}
