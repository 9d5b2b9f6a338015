import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// graphql 16 ships CJS and ESM without an exports map: dependencies would load one copy and tests the other
// ("Cannot use GraphQLScalarType from another module or realm"). Pin every import to the CJS entry.
const graphqlEntry = createRequire(import.meta.url).resolve('graphql/index.js');

export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlEntry }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
