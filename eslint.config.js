// Lint rules. The layering rules here, with the per-folder tsconfig files, keep the engine free of
// Electron and the DOM and the renderer away from everything but the service API's types.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const electronAndUi = {
  paths: [{ name: 'electron', message: 'engine/ runs in plain Node: no Electron (VS Code layering)' }],
  patterns: [{ group: ['**/main/**', '**/renderer/**'], message: 'engine/ must not import main/ or renderer/' }],
};

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'test-results/', 'test/layering/fixtures/', 'test/layering/electron/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  prettier,
  ...svelte.configs['flat/prettier'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.name='require']", message: 'use import' }],
    },
  },
  {
    // Electron's sandboxed preload must be a CommonJS script: import-equals is how it loads electron.
    files: ['main/electron/preload.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['engine/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', electronAndUi],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'HTMLElement'],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte', 'renderer/**/*.svelte.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'the renderer talks to the backend only through the typed Api' }],
          patterns: [
            {
              regex: '(^|/)engine/(?!service/)',
              message: 'the renderer may import only types from engine/service',
            },
            {
              regex: '(^|/)engine/service/',
              allowTypeImports: true,
              message: 'the renderer may import only types from engine/service (use import type)',
            },
            {
              group: ['**/main/**', 'node:*', 'fs', 'path', 'child_process'],
              message: 'the renderer is sandboxed: no Node, no main/',
            },
          ],
        },
      ],
    },
  },
);
