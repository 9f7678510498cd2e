// The Settings screen's models state against a fake main side.
import { describe, expect, it } from 'vitest';
import { ModelsState } from '../../src-renderer/src/lib/state/models.svelte.js';
import { notifications } from '../../src-renderer/src/lib/state/notifications.svelte.js';
import { FakeTransport, settle } from './fake-transport.js';

const model = { id: 'mod_000001', name: 'v1-5', family: 'sd1', path: '/models/v1-5.safetensors', managed: false };

describe('ModelsState', () => {
  it('adds a path or a URL with the call each needs, then clears the form; follows changes until destroyed', async () => {
    const fake = new FakeTransport({ 'models.list': () => [model], 'models.addPath': () => model, 'models.addUrl': () => model });
    const models = new ModelsState();
    await settle();
    expect(models.models).toEqual([model]);
    models.source = '  /models/v1-5.safetensors ';
    models.copy = true;
    await models.add();
    expect(fake.callsOf('models.addPath')).toEqual([{ path: '/models/v1-5.safetensors', copy: true }]);
    expect(models.source).toBe('');
    models.source = 'https://example.org/v1-5.safetensors';
    models.sha256 = 'c'.repeat(64);
    await models.add();
    expect(fake.callsOf('models.addUrl')).toEqual([{ url: 'https://example.org/v1-5.safetensors', sha256: 'c'.repeat(64) }]);
    expect(models.adding).toBe(false);
    fake.emit('models', 'onChanged', {});
    await settle();
    const lists = fake.callsOf('models.list').length;
    models.destroy();
    fake.emit('models', 'onChanged', {});
    await settle();
    expect(fake.callsOf('models.list')).toHaveLength(lists);
    expect(fake.listenerCount).toBe(0);
  });

  it('asks before removing, naming the concepts learned on the model; then says whether its files were deleted', async () => {
    const fake = new FakeTransport({
      'models.list': () => [model],
      'models.remove': () => ({ deletedFiles: false }),
      'library.list': () => ({
        images: [],
        concepts: [
          { name: 'Rex', baseModelId: 'mod_000001' },
          { name: 'Other', baseModelId: 'mod_000002' },
        ],
      }),
    });
    const models = new ModelsState();
    await settle();
    await models.askRemove(model as never);
    expect(models.pendingRemove).toEqual({ model, concepts: ['Rex'] });
    expect(fake.callsOf('models.remove')).toEqual([]);
    models.cancelRemove();
    expect(models.pendingRemove).toBeNull();
    await models.askRemove(model as never);
    await models.confirmRemove();
    expect(fake.callsOf('models.remove')).toEqual([{ id: 'mod_000001' }]);
    expect(notifications.items.at(-1)?.text).toBe('Removed v1-5; its files stay at /models/v1-5.safetensors.');
    models.destroy();
  });
});
