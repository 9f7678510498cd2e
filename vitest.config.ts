import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: ['test/renderer/**', 'test/gpu/**'] } },
      // the device code paths on the WebGPU provider (a real GPU, or Mesa's lavapipe in CI); skipped, saying why, without one
      {
        extends: true,
        test: {
          name: 'gpu',
          include: [
            'test/gpu/**/*.test.ts',
            'test/unit/models/reference.test.ts',
            'test/unit/models/metric-networks.test.ts',
            'test/unit/models/lora-reference.test.ts',
            'test/unit/models/taesd-reference.test.ts',
          ],
          globalSetup: ['test/gpu/global-setup.ts'],
          setupFiles: ['test/gpu/setup.ts'],
          testTimeout: 300_000,
        },
      },
      // the renderer's state classes (*.svelte.ts, runes compiled as the browser build runs them), against a fake transport
      {
        extends: true,
        plugins: [svelte({ configFile: 'src-renderer/svelte.config.js' })],
        resolve: { conditions: ['browser'] },
        test: { name: 'renderer', include: ['test/renderer/**/*.test.ts'] },
      },
    ],
  },
});
