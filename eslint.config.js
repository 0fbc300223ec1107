/**
 * One ESLint config for the whole workspace (`npm run lint` lints every file from the root).
 *
 * Besides typescript-eslint's recommended rules, it enforces the layering of
 * docs/ARCHITECTURE and the house style, so a crossing fails the lint instead of waiting for a
 * reviewer:
 *   - a package never depends on a service (by name or by a relative path);
 *   - a workspace reaches another only through its package.json `exports` map: never its
 *     `src/`, never a relative path into it;
 *   - `packages/domain` imports zod and its own files, nothing with I/O;
 *   - the web app takes types from a service (the `AppRouter`), never run-time code;
 *   - a gateway handler does not call another handler (nor a slice another slice's handler);
 *   - no import cycles anywhere.
 * test/lint/boundaries.test.ts proves each of these fires. Formatting is Prettier's alone
 * (eslint-config-prettier turns off every rule that could disagree with it).
 */
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import reactHooks from 'eslint-plugin-react-hooks';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Every folder under services/ is a deployable; a new one is covered without editing this file. */
const services = readdirSync(new URL('./services', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const serviceSpecifiers = services.flatMap((name) => [`@quorum/${name}`, `@quorum/${name}/**`]);

const noSrcImports = {
  group: ['@quorum/*/src', '@quorum/*/src/**'],
  message: 'Import another workspace through its package.json exports map, never its src/.',
};
const noServicesInPackages = {
  group: serviceSpecifiers,
  message: 'A package (packages/*) never depends on a service: move what both need into a package the service imports.',
};
const domainWithoutIo = {
  // Anything that is neither zod nor a relative path: drivers, frameworks and node:* alike.
  regex: '^(?!zod(/|$)|\\.\\.?/)',
  message:
    'packages/domain imports zod and its own files only: no driver, framework or node:* module (adapters take the driver as a dependency).',
};
const domainTestsWithoutIo = {
  ...domainWithoutIo,
  // The domain's tests and their given/when/then helper (src/testing, not exported) use vitest,
  // and property tests fast-check: both pure.
  regex: '^(?!(zod|vitest|fast-check)(/|$)|\\.\\.?/)',
};
const webTakesTypesOnly = {
  group: serviceSpecifiers,
  allowTypeImports: true,
  message: 'The web app bundles for the browser: it may take types from a service (import type), never run-time code.',
};
const noCrossSliceHandlers = {
  // From services/gateway/src/<slice>/x.ts, `../<other slice>/<name>.handler`.
  regex: '^\\.\\./[^./][^/]*/[^/]+\\.handler$',
  message:
    "A gateway slice does not call another slice's handler: move the shared rule into a module both use (a module beside access.ts, or the domain).",
};

const noHandlerToHandler = {
  regex: '\\.handler$',
  message:
    'A handler does not call another handler: move what both need into a module both use (services/gateway/src/org-facts.ts is one).',
};

/** `no-restricted-imports` replaces (does not merge) its options per matching block: each layer lists all it needs. */
const restrictImports = (...patterns) => ({
  'no-restricted-imports': 'off',
  '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
});

export default defineConfig(
  globalIgnores(['**/node_modules/', '**/dist/', '**/.data/', '**/.turbo/', 'test-results/', 'coverage/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      // Never parse third-party code: the cycle check walks the workspace's own modules (the
      // workspaces resolve to their real paths, outside node_modules), which keeps it fast.
      'import-x/ignore': ['node_modules'],
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['tsconfig.json', 'packages/*/tsconfig.json', 'services/*/tsconfig.json', 'web/tsconfig.json'],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-relative-packages': 'error',
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // `let x!: T` read by a closure before its one assignment is late binding, not a missed const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      ...restrictImports(noSrcImports),
    },
  },
  {
    // k6 scripts run in k6's own runtime, which provides these.
    files: ['load-tests/k6/**'],
    languageOptions: { globals: { __ENV: 'readonly', __VU: 'readonly', __ITER: 'readonly' } },
  },
  {
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      ...restrictImports(noSrcImports, webTakesTypesOnly),
    },
  },
  {
    files: ['packages/**'],
    rules: restrictImports(noSrcImports, noServicesInPackages),
  },
  {
    files: ['packages/domain/**'],
    rules: restrictImports(noSrcImports, noServicesInPackages, domainWithoutIo),
  },
  {
    files: ['packages/domain/**/*.test.ts', 'packages/domain/src/testing/**'],
    rules: restrictImports(noSrcImports, noServicesInPackages, domainTestsWithoutIo),
  },
  {
    files: ['services/gateway/src/*/**'],
    rules: restrictImports(noSrcImports, noCrossSliceHandlers),
  },
  {
    files: ['services/gateway/src/**/*.handler.ts'],
    rules: restrictImports(noSrcImports, noCrossSliceHandlers, noHandlerToHandler),
  },
  prettier,
);
