/** Unit tests sit next to the code (*.spec.ts); integration and e2e suites are under test/ (*.e2e-spec.ts). */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^@hes/([a-z-]+)$': '<rootDir>/libs/$1/src',
    '^@hes/([a-z-]+)/(.*)$': '<rootDir>/libs/$1/src/$2',
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 60000,
  maxWorkers: 2,
  // A worker's heap grows by 10-20 MB per test file (each file loads its own Nest, TypeORM and BullMQ module
  // graph; 1.3 GB after 55 files, 1.9 GB RSS). Ending a process that size took longer than the 500 ms jest
  // allows a worker to exit at the end of the run ("A worker process has failed to exit gracefully and has
  // been force exited"; measured: 470 ms for a 2.7 GB process on the quiet machine). Above this heap after a
  // file, the worker is replaced before its next one.
  workerIdleMemoryLimit: '512MB',
};
