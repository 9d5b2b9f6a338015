#!/usr/bin/env node
// Runs the CLI: the prebuilt bundle in dist/ (written by `npm install`'s prepare script or `npm run build`) when it was
// built from the sources on disk, else the TypeScript sources through tsx. So `npx flowql ...` works right after
// `npm install`, starts without transpiling its modules, and never runs code older than src/ (bin/cli-bundle.js).
// FLOWQL_BUNDLE=off always runs the sources; FLOWQL_BUNDLE_DEBUG=1 prints which one runs and why.
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { freshCliBundle } from './cli-bundle.js';

const bundle = freshCliBundle(join(import.meta.dirname, '..'));
if (process.env.FLOWQL_BUNDLE_DEBUG)
  process.stderr.write(`flowql: running ${bundle.entry ?? `the sources through tsx: ${bundle.stale}`}\n`);
if (bundle.entry) {
  // As under tsx, stack traces name the TypeScript sources (the build writes linked source maps).
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(bundle.entry).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
