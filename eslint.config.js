// ESLint for the whole tree: TypeScript and Svelte 5, recommended rules, plus the few this project relies on.
// Formatting is Prettier's (npm run lint runs both); import cycles and the renderer's imports have their own checks.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'native/*/build/**', 'test-results/**', '.data/**', 'dist/**', 'src-renderer/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    files: ['src-renderer/**', 'src-preload/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
    rules: {
      // state lives in $state fields; a Set or Map built inside a function, or a listener list, is not state
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  {
    rules: {
      // unused names are compile errors already (noUnusedLocals); a leading _ marks one kept on purpose
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
    },
  },
  {
    // command-line programs and scripts print their results
    files: [
      'scripts/**',
      'src-main/cli/**',
      'src-main/**/bench/**',
      'src-main/**/*-bench.ts',
      'src-main/audit/**',
      'src-main/server/main.ts',
      'bin/**',
      'test/**',
      '.ci/**',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    // Svelte 5 declares props as `let { … } = $props()`
    files: ['**/*.svelte'],
    rules: { 'prefer-const': 'off' },
  },
);
