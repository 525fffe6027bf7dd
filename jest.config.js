// One transformer for the TypeScript sources and for jose 6, which is ESM-only: Jest on Node 20 cannot require() it.
// Types are checked by `npm run typecheck`, not here. Nest's injection needs the legacy decorators and their metadata.
const typescript = {
  jsc: {
    target: 'es2023',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
const transform = {
  '^.+\\.ts$': ['@swc/jest', typescript],
  '^.+\\.js$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }],
};
const transformIgnorePatterns = ['/node_modules/(?!(jose|content-disposition)/)'];
const common = {
  transform,
  transformIgnorePatterns,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  // A global option (Jest ignores it inside `projects`): e2e tests boot apps and worker processes on a shared 2-core box.
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/setup/summary-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', rootDir: __dirname, testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/setup/file-database.ts'],
    },
    {
      ...common,
      // Repositories and SQL functions against the real schema, without the HTTP app (one database per file, as e2e).
      displayName: 'repository',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/repository/**/*.repo-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/setup/file-database.ts'],
    },
    {
      ...common,
      // Whole-service fault injection on private Postgres and Redis instances (test/faults/fault-stack.ts).
      displayName: 'faults',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
    },
  ],
};
