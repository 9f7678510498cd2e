import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Backend, createBackend } from '../../../src-main/api/backend.js';
import { tmpDir } from '../../helpers/tmp.js';

describe('dispatcher (the one validated channel)', () => {
  let backend: Backend;
  beforeEach(() => {
    backend = createBackend({ dataDir: tmpDir() });
  });
  afterEach(() => backend.close());

  const expectRejected = async (request: unknown, pattern: RegExp) => {
    const response = await backend.dispatch(request);
    expect(response.ok).toBe(false);
    if (!response.ok) {
      expect(response.error.code).toBe('invalid-input');
      expect(response.error.message).toMatch(pattern);
    }
  };

  it('answers a valid call with output that matches its schema', async () => {
    const response = await backend.dispatch({ service: 'library', method: 'list', input: {} });
    expect(response).toEqual({ ok: true, value: { images: [], concepts: [] } });
  });

  it('rejects requests that are not { service, method, input }', async () => {
    await expectRejected(null, /Malformed request/);
    await expectRejected('library.list', /Malformed request/);
    await expectRejected({ service: 'library' }, /Malformed request/);
  });

  it('rejects unknown services and methods, including inherited property names', async () => {
    await expectRejected({ service: 'nope', method: 'list', input: {} }, /Unknown service "nope"/);
    await expectRejected({ service: 'library', method: 'drop', input: {} }, /Unknown method "library.drop"/);
    await expectRejected({ service: '__proto__', method: 'toString', input: {} }, /Unknown service/);
    await expectRejected({ service: 'library', method: 'constructor', input: {} }, /Unknown method/);
  });

  it('rejects inputs that fail their schema, naming the field', async () => {
    await expectRejected({ service: 'library', method: 'deleteImage', input: { id: 42 } }, /deleteImage: id:/);
    await expectRejected({ service: 'library', method: 'deleteImage', input: { id: '../../etc/passwd' } }, /image id/);
    await expectRejected({ service: 'library', method: 'list', input: { extra: true } }, /library.list/);
    await expectRejected({ service: 'images', method: 'import', input: { sources: [] } }, /sources/);
    await expectRejected({ service: 'images', method: 'import', input: { sources: [{ kind: 'url', url: 'http://x' }] } }, /sources/);
  });

  it('reports a missing record as not-found, not as a crash', async () => {
    const response = await backend.dispatch({ service: 'library', method: 'deleteImage', input: { id: 'img_000000000000' } });
    expect(response).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});
