// Which code bin/flowql.js runs: the prebuilt JavaScript bundle of src/cli/main.ts (bin/build-cli-bundle.js writes it
// into dist/, from `npm install`'s prepare script or `npm run build`) when it was built from the sources on disk now,
// else nothing (the caller runs the TypeScript sources through tsx). Kept small: it runs on every start.
//
// The rule, git's index rule: the manifest lists every file the bundle was built from with its size, mtime and
// SHA-1. A file whose size changed, or that is gone, makes the bundle stale; one whose mtime changed but size did not
// is hashed and compared (a copy that reset mtimes, as a Docker COPY may, still uses the bundle; an edit that kept the
// size does not). Only the files the bundle holds count: a new file no source imports cannot change what runs.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

/** The manifest's path under the project root; the bundle's folder is named inside it. */
export const MANIFEST = 'dist/cli-bundle.json';

/** SHA-1 of a file's bytes, hex. */
export function fileSha1(path) {
  return createHash('sha1').update(readFileSync(path)).digest('hex');
}

/**
 * The bundle's entry file if it matches the sources under `root`, else `{ stale: reason }`. `FLOWQL_BUNDLE=off`
 * always answers stale (run the sources).
 */
export function freshCliBundle(root, env = process.env) {
  if (env.FLOWQL_BUNDLE === 'off') return { stale: 'FLOWQL_BUNDLE=off' };
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(root, MANIFEST), 'utf8'));
  } catch {
    return { stale: `no ${MANIFEST} (npm run build writes it)` };
  }
  const entry = join(root, manifest.entry);
  if (manifest.version !== 1 || !existsSync(entry)) return { stale: `${manifest.entry} is missing` };
  for (const [path, size, mtimeMs, sha1] of manifest.inputs) {
    const file = join(root, path);
    const now = statSync(file, { throwIfNoEntry: false });
    if (!now) return { stale: `${path} is gone` };
    if (now.size !== size || (now.mtimeMs !== mtimeMs && fileSha1(file) !== sha1))
      return { stale: `${path} changed since the build` };
  }
  return { entry };
}
