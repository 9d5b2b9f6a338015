import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Dependencies point one way: domain <- ingest, store, analytics <- graphql/http <- main.
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

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'coverage/**', '.bench/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  noUp('domain', [['**/ingest/**', '**/store/**', '**/analytics/**', '**/graphql/**', '**/http/**', 'graphql', 'graphql-yoga', '@pothos/*', '@duckdb/*']]),
  noUp('ingest', [['**/graphql/**', '**/http/**', 'graphql', 'graphql-yoga', '@pothos/*']]),
  noUp('store', [['**/graphql/**', '**/http/**', '**/ingest/**', 'graphql', 'graphql-yoga', '@pothos/*']]),
  noUp('analytics', [['**/graphql/**', '**/http/**', 'graphql', 'graphql-yoga', '@pothos/*']]),
  noUp('graphql', [['@duckdb/*']]),
);
