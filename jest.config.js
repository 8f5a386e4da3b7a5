/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': '<rootDir>/scripts/jest-esbuild-transform.js' },
  setupFiles: ['<rootDir>/test/setup.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
  // Longest files first also on a fresh machine (CI), from test/durations.json: see the sequencer.
  testSequencer: '<rootDir>/scripts/jest-sequencer.js',
  // How long jest waits for a worker to exit once the run is over before it kills it and prints "A worker process
  // has failed to exit gracefully". Nothing keeps the workers alive: each runs its 'exit' handlers within a
  // millisecond of jest's end message, with no handle, timer or child process left (checked per file with
  // process.getActiveResourcesInfo()). What takes longer than jest's default 500 ms is the process's own teardown:
  // a worker holds ~1.1-1.3 GB at the end of a full run (each test file loads aws-cdk-lib into its own module
  // registry), and Node takes 1.3-1.5 s to free that much after 'exit' (0.5-0.9 s even under SIGKILL, which
  // leaves it to the kernel), longer on a loaded machine. Waiting costs nothing a kill would save.
  workerGracefulExitTimeout: 10000,
  reporters: ['default', '<rootDir>/scripts/jest-summary-line.js'],
};
