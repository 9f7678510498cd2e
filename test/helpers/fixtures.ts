import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared/fixtures beside the project (see its README for licences). */
export const SHARED_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
export const fixtureImage = (name: string) => {
  const path = join(SHARED_FIXTURES, 'images', name);
  if (!existsSync(path)) throw new Error(`Fixture ${path} is missing: the tests need ../shared/fixtures beside the project.`);
  return path;
};
