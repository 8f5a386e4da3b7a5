// ESLint (flat config): typescript-eslint's recommended rules, as CDK projects (projen's, aws-cdk's) use them,
// run by `npm test` (test/package/layers.test.ts). Rules that would only restyle code are off: several people edit
// these files at once, and formatting is not what this checks.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.build/', '.pack/', 'packages/*/dist/', 'assets/', 'cdk.out/', 'coverage/', '.rehearsal/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Unused code is already an error of the compiler (noUnusedLocals, noUnusedParameters); `_`-prefixed is intended.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Props interfaces that extend one other interface are how CDK (and jsii) spell a named props type.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      // Style only.
      'no-regex-spaces': 'off',
      // Fakes and tests type AWS's loosely typed payloads; `any` stays visible in review, not banned.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Tests match terminal output, ANSI escapes included.
    files: ['test/**/*.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly', __filename: 'readonly', Buffer: 'readonly' } },
  },
  {
    // CommonJS scripts (the jest transform, the jsii build shared by the build and its test) load modules with require.
    files: ['**/*.{js,cjs}'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
