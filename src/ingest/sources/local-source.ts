/**
 * A local source: one file, or a folder walked recursively in name order (hidden entries skipped). The key is the
 * absolute path, so AWS's layout is recognised wherever `AWSLogs/` sits above the folder given.
 *
 * Symbolic links are followed (a folder of links to downloaded objects, a linked `AWSLogs/` on another disk), keyed
 * by the link's own path; a folder reached twice (a link to an ancestor) is walked once. A link to nothing is listed
 * as an object whose reading fails, so the ingest names it among its failures instead of skipping it unseen.
 */
import { createReadStream, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
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

/** What a link leads to; null when it leads nowhere (a missing target, a loop of links, no permission). */
function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * The folder's objects, depth first in name order. The file system is read synchronously: a listing runs before
 * anything else of the ingest, and a promise per stat cost 0.13-0.15 ms of CPU per file (1,692 objects: 220-260 ms,
 * 25-60 ms synchronously), paid again at every run of `--watch` over the whole prefix.
 */
function* walk(dir: string, visited: Set<string>): Iterable<SourceObject> {
  const real = realpathSync(dir);
  if (visited.has(real)) return;
  visited.add(real);
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p, visited);
    else if (e.isFile()) {
      const s = statSync(p);
      yield objectOf(p, s.size, s.mtimeMs);
    } else if (e.isSymbolicLink()) {
      const target = statOrNull(p);
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
