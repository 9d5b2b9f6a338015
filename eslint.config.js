import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Dependencies point one way: domain <- store <- analytics <- questions <- graphql <- http <- cli/main; ingest,
// generator, auth, demo and pgwire (the SQL endpoint, over store and auth) sit beside them (ingest derives with analytics, the demo runs the generator and ingest).
// Every folder of src/ has its rule.
const noUp = (from, forbidden) => ({
  files: [`src/${from}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((group) => ({ group, message: `src/${from} must not depend on ${group.join(', ')}` })),
      },
    ],
  },
});

/** The serving layers and their libraries. */
const SERVING = ['**/graphql/**', '**/http/**', 'graphql', 'graphql-yoga', '@pothos/*'];
/** The folders beside the serving stack, and the command line on top of everything. */
const BESIDE = ['**/generator/**', '**/auth/**', '**/demo/**', '**/cli/**', '**/pgwire/**'];
/**
 * The SQL builders. The serving layers ask src/questions and name values from src/domain; of src/store they use only
 * the server's wiring (reader, runner, cache, budget, cost, damage, migrations, queue, layout), never its queries.
 */
const SQL_BUILDERS = ['**/analytics/**', '**/store/queries/**'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'coverage/**', '.bench/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  noUp('domain', [
    ['**/ingest/**', '**/store/**', '**/analytics/**', '**/questions/**', ...SERVING, ...BESIDE, '@duckdb/*'],
  ]),
  noUp('store', [['**/ingest/**', '**/analytics/**', '**/questions/**', ...SERVING, ...BESIDE]]),
  noUp('analytics', [['**/ingest/**', '**/questions/**', ...SERVING, ...BESIDE]]),
  noUp('questions', [['**/ingest/**', ...SERVING, ...BESIDE]]),
  noUp('graphql', [
    ['**/ingest/**', '**/http/**', '**/cli/**', '**/generator/**', '**/demo/**', '@duckdb/*', ...SQL_BUILDERS],
  ]),
  noUp('http', [['**/ingest/**', '**/cli/**', '**/generator/**', '**/demo/**', ...SQL_BUILDERS]]),
  // The SQL endpoint is a serving layer beside graphql/http: it runs clients' statements through src/store's guard and
  // runner, never through GraphQL or the HTTP routes.
  noUp('pgwire', [
    [
      '**/ingest/**',
      '**/graphql/**',
      '**/http/**',
      '**/questions/**',
      'graphql',
      'graphql-yoga',
      '@pothos/*',
      ...SQL_BUILDERS,
      '**/cli/**',
      '**/generator/**',
      '**/demo/**',
    ],
  ]),
  noUp('ingest', [['**/questions/**', ...SERVING, ...BESIDE]]),
  noUp('generator', [
    ['**/ingest/**', '**/analytics/**', '**/questions/**', ...SERVING, '**/cli/**', '**/auth/**', '**/demo/**'],
  ]),
  noUp('auth', [
    ['**/ingest/**', '**/analytics/**', '**/questions/**', ...SERVING, '**/cli/**', '**/generator/**', '**/demo/**'],
  ]),
  noUp('demo', [['**/questions/**', ...SERVING, '**/cli/**']]),
);
