#!/usr/bin/env node
// Builds the CLI bundle that bin/flowql.js runs instead of the TypeScript sources (through tsx, every start resolves
// and transpiles each module it loads, ~0.2 CPU s for `--help`; the bundle is plain JavaScript chunks): src/cli/main.ts
// and what it imports, with esbuild, into dist/cli-<id>/, then dist/cli-bundle.json naming it and the sources it was
// built from.
//
//   node bin/build-cli-bundle.js              build (npm run build)
//   node bin/build-cli-bundle.js --if-stale   build only when bin/cli-bundle.js finds none matching the sources
//   node bin/build-cli-bundle.js --prepare    npm's prepare script: a failure is a warning (the CLI then runs the
//                                             sources through tsx), not a failed `npm install`
//
// What it keeps working:
// - Packages stay external (node_modules is resolved at run time as before; DuckDB's binding cannot be bundled): only
//   the project's own sources are bundled.
// - Every `import('./x.ts')` becomes a chunk loaded when it was loaded before (`--help` does not load DuckDB or
//   GraphQL); a dynamic import that is not a string literal fails the build, since it would not be bundled.
// - `import.meta.url` in a source file becomes that file's own URL (computed from the chunk's location), so the
//   `new URL('../../migrations/', import.meta.url)` style of reads finds the same files as under tsx.
// - Each build goes to a new folder and the manifest is replaced by a rename: a CLI starting meanwhile sees the old
//   build or the new one, and a process still running the previous build keeps its chunks (older ones are removed).
import { randomBytes } from 'node:crypto';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { fileSha1, freshCliBundle, MANIFEST } from './cli-bundle.js';

const ROOT = join(import.meta.dirname, '..');
const ENTRY = 'src/cli/main.ts';
/** Files that shape the output besides the sources: the build itself and the compiler options esbuild reads. */
const BUILD_INPUTS = ['bin/build-cli-bundle.js', 'tsconfig.json'];

/** [path, size, mtimeMs, sha1] of a file, path relative to the root with `/`. */
function describe(root, path) {
  const s = statSync(join(root, path));
  return [path, s.size, s.mtimeMs, fileSha1(join(root, path))];
}

/** Every file under src/, relative to the root with `/`. */
function sourceFiles(root) {
  return readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(root, join(d.parentPath, d.name)).split(sep).join('/'));
}

/** Rewrites `import.meta.url` in each source to that source's URL, relative to the chunk that will hold it. */
function sourceUrlPlugin(outdir) {
  return {
    name: 'flowql-source-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (/import\.meta\.(dirname|filename)\b/.test(text))
          return {
            errors: [{ text: 'use new URL(..., import.meta.url): import.meta.dirname/filename are not rewritten' }],
          };
        const rel = relative(outdir, args.path).split(sep).map(encodeURIComponent).join('/');
        const url = `new URL(${JSON.stringify(rel)}, import.meta.url).href`;
        return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
      });
    },
  };
}

/**
 * Builds the bundle of the sources under `root`; with `ifStale`, only when there is none matching them. Returns the
 * entry file and whether it was built now.
 */
export async function buildCliBundle(root = ROOT, { ifStale = false } = {}) {
  if (ifStale) {
    const fresh = freshCliBundle(root, {});
    if (fresh.entry) return { entry: fresh.entry, built: false };
  }
  const { build } = await import('esbuild');
  // Described before the build: a file edited during it then differs from its entry, and the next start runs the
  // sources (never a bundle older than its manifest says).
  const before = new Map([...sourceFiles(root), ...BUILD_INPUTS].map((p) => [p, describe(root, p)]));
  const started = process.hrtime.bigint();
  const id = `cli-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const outdir = join(root, 'dist', id);
  const result = await build({
    absWorkingDir: root,
    entryPoints: [ENTRY],
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    keepNames: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    logOverride: { 'unsupported-dynamic-import': 'error' },
    plugins: [sourceUrlPlugin(outdir)],
  });
  const inputs = [...Object.keys(result.metafile.inputs), ...BUILD_INPUTS].map(
    (p) => before.get(p) ?? describe(root, p),
  );
  let previous = null;
  try {
    previous = JSON.parse(await readFile(join(root, MANIFEST), 'utf8')).entry.split('/')[1];
  } catch {
    // first build
  }
  const manifest = { version: 1, entry: `dist/${id}/main.js`, inputs };
  const tmp = join(root, `${MANIFEST}.${id}.tmp`);
  await writeFile(tmp, JSON.stringify(manifest));
  await rename(tmp, join(root, MANIFEST));
  for (const d of readdirSync(join(root, 'dist'), { withFileTypes: true })) {
    if (d.isDirectory() && d.name.startsWith('cli-') && d.name !== id && d.name !== previous)
      await rm(join(root, 'dist', d.name), { recursive: true, force: true });
  }
  const chunks = Object.keys(result.metafile.outputs).filter((o) => o.endsWith('.js')).length;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { entry: join(root, manifest.entry), built: true, modules: inputs.length - BUILD_INPUTS.length, chunks, ms };
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const flags = process.argv.slice(2);
  const unknown = flags.filter((f) => f !== '--if-stale' && f !== '--prepare');
  if (unknown.length > 0) {
    process.stderr.write(`build-cli-bundle: unknown option ${unknown[0]} (--if-stale, --prepare)\n`);
    process.exit(2);
  }
  try {
    const r = await buildCliBundle(ROOT, { ifStale: flags.includes('--if-stale') });
    const where = relative(ROOT, r.entry);
    process.stderr.write(
      r.built
        ? `flowql: built ${where} (${r.modules} modules, ${r.chunks} chunks, ${Math.round(r.ms)} ms)\n`
        : `flowql: ${where} matches the sources\n`,
    );
  } catch (err) {
    // esbuild has printed each error with its file and line already: its message's first line is the summary.
    const why = err instanceof Error ? err.message.split('\n')[0].replace(/:$/, '') : String(err);
    process.stderr.write(
      `flowql: could not build the CLI bundle (${why}); until one succeeds, bin/flowql.js runs the sources\n`,
    );
    if (!flags.includes('--prepare')) process.exitCode = 1;
  }
}
