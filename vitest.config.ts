import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['regions/**/*.test.ts', 'constructs/**/*.test.ts', 'charts/**/*.test.ts', 'lab/**/*.test.ts', 'app/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    // Installs (once, cached) every engine the lab tests run: nats-server, Cassandra, PostgreSQL + pglogical.
    globalSetup: ['lab/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Integration tests start real servers on fixed loopback addresses: one file at a time.
    fileParallelism: false,
    reporters: ['default'],
  },
});
