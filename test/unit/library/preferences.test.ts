import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Library } from '../../../src-main/library/library.js';
import { chooseDevice } from '../../../src-main/system/device-choice.js';
import { tmpDir } from '../../helpers/tmp.js';

describe('preferences', () => {
  it('start at auto, keep what is set across a reopen, and fall back to the default for a value that no longer fits', () => {
    const dir = join(tmpDir(), 'lib');
    let library = Library.open(dir);
    expect(library.preferences.get()).toEqual({ provider: 'auto' });
    expect(library.preferences.set({ provider: 'webgpu' })).toEqual({ provider: 'webgpu' });
    expect(() => library.preferences.set({ provider: 'tpu' as never })).toThrow();
    library.close();
    library = Library.open(dir);
    expect(library.preferences.get()).toEqual({ provider: 'webgpu' });
    // written by another version: an unknown value and an unknown key
    library.db.prepare("UPDATE preferences SET value_json = '\"tpu\"' WHERE key = 'provider'").run();
    library.db.prepare("INSERT INTO preferences (key, value_json) VALUES ('theme', '\"dark\"')").run();
    expect(library.preferences.get()).toEqual({ provider: 'auto' });
    library.close();
  });

  it('Settings decides what auto means; a run’s own provider still wins', async () => {
    expect(await chooseDevice('auto', 'cpu')).toEqual({ provider: 'cpu', label: 'CPU', reason: 'CPU is chosen in Settings' });
    expect((await chooseDevice('webgpu', 'cpu')).provider).toBe('webgpu');
  });
});
