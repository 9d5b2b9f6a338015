/**
 * A local source: one file, or a folder walked recursively in name order (hidden entries skipped). The key is the
 * absolute path, so AWS's layout is recognised wherever `AWSLogs/` sits above the folder given.
 *
 * Symbolic links are followed (a folder of links to downloaded objects, a linked `AWSLogs/` on another disk), keyed
 * by the link's own path; a folder reached twice (a link to an ancestor) is walked once. A link to nothing is listed
 * as an object whose reading fails, so the ingest names it among its failures instead of skipping it unseen.
 */
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { SourceObject } from './source-object.ts';

function objectOf(path: string, size: number, mtimeMs: number): SourceObject {
  return {
    uri: path,
    key: path.split(sep).join('/'),
    size,
    version: `${size}-${Math.trunc(mtimeMs)}`,
    open: async () => createReadStream(path),
  };
}

async function* walk(dir: string, visited: Set<string>): AsyncIterable<SourceObject> {
  const real = await realpath(dir);
  if (visited.has(real)) return;
  visited.add(real);
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p, visited);
    else if (e.isFile()) {
      const s = await stat(p);
      yield objectOf(p, s.size, s.mtimeMs);
    } else if (e.isSymbolicLink()) {
      const target = await stat(p).catch(() => null);
      if (target === null) yield objectOf(p, 0, 0);
      else if (target.isDirectory()) yield* walk(p, visited);
      else if (target.isFile()) yield objectOf(p, target.size, target.mtimeMs);
    }
  }
}

/** Every file at or under `path`. A missing path is an error naming it. */
export async function* listLocalObjects(path: string): AsyncIterable<SourceObject> {
  const abs = resolve(path);
  let s;
  try {
    s = await stat(abs);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(`source ${path}: ${missing ? 'no such file or folder' : (err as Error).message}`, { cause: err });
  }
  if (s.isDirectory()) yield* walk(abs, new Set());
  else yield objectOf(abs, s.size, s.mtimeMs);
}
