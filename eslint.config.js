import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const FOLDER_DOOR =
  'import another folder of src/ through its index.ts (export the name there if it is missing)';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', '.cluster/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] } },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // client-node's models are classes, but its API serializes plain objects by field name: literals are the norm.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
    },
  },
  {
    // Each folder of src/ is a package whose index.ts is its public surface and its only door: code in
    // another folder imports that index.ts, never a file behind it.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        // A file at src/'s root (version.ts) is no folder and has no door.
        {
          patterns: [
            { regex: String.raw`^(\.\./)+([^./][^/]*/)+(?!index\.ts$)[^/]+$`, message: FOLDER_DOOR },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'hack/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: String.raw`/src/(.*/)?(?!index\.ts$)[^/]+$`, message: FOLDER_DOOR }] },
      ],
    },
  },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
  prettier,
);
