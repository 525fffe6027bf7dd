// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const KEYS_MESSAGE = 'Re-import generated keys before use (docs/decisions/036): use test/utils/keys.ts.';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-bench/**',
      'node_modules/**',
      'coverage/**',
      '.test-build/**',
      'jest.config.js',
      'eslint.config.mjs',
      'test/setup/summary-reporter.js',
      'scripts/check-folder-cycles.js',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-extraneous-class': 'off',
      eqeqeq: ['error', 'always'],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='add'][callee.object.name=/[qQ]ueue$/]",
          message: 'Use DeliveryQueue.enqueue, not Queue.add.',
        },
      ],
    },
  },
  {
    // docs/decisions/036: a key used as generated can deadlock Node 20's GC; generate through test/utils/keys.ts.
    ignores: ['test/utils/keys.ts', 'src/tokens/signing-key.store.ts', 'bench/floor/floor-server.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'node:crypto', importNames: ['generateKeyPair', 'generateKeyPairSync'], message: KEYS_MESSAGE },
            { name: 'crypto', importNames: ['generateKeyPair', 'generateKeyPairSync'], message: KEYS_MESSAGE },
            { name: 'jose', importNames: ['generateKeyPair'], message: KEYS_MESSAGE },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'src/**/*.spec.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
