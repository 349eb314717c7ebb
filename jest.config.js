/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type-checking happens once in `npm test` (tsc --noEmit); jest only strips types, via swc.
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
  },
  // A private TMPDIR for the run, checked for leftovers at the end; the shared variant synthesis.
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // Tests print nothing; app outdirs are removed after each file.
  setupFilesAfterEnv: ['<rootDir>/test/helpers/jest-setup.ts'],
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
  // jest's default (cores - 1) leaves one of these 2-core machines' cores idle while suites wait on
  // module loading and the shared variant synthesis: one worker per core measured 33 s against 50 s.
  maxWorkers: '100%',
  testTimeout: 60000,
};
