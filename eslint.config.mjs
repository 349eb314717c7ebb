import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'cdk.out/', 'cdk.out.*/', 'coverage/', '**/*.js', '!scripts/**/*.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Synthesized templates are untyped JSON; tests read them as such.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      // An App without outdir leaves a cdk.out* folder in the temp directory on every construction.
      'no-restricted-syntax': ['error', {
        selector: "NewExpression[callee.name='App']:not(:has(Property[key.name='outdir']))",
        message: 'Use unitTestApp() or testApp() from test/helpers/cdk-app.ts (or pass outdir: testOutdir()): they remove the outdir after the test file.',
      }],
    },
  },
  {
    files: ['scripts/**/*.js', 'bin/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
