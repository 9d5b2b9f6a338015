/**
 * The API's view of the warehouse: the committed manifest (src/store/layout.ts), reloaded when the file changes so
 * `flowql serve` picks up newly ingested data without a restart. A reload costs one `stat` per request; the JSON is
 * parsed only when size or mtime changed, and concurrent requests share one read.
 *
 * One request reads one generation: the HTTP layer hands each request a `pinWarehouse` view, so every field of a
 * GraphQL response (and every statement of a download) plans on the same manifest, and the ingester keeps the files
 * of older generations on storage for a grace period (src/ingest/retired-files.ts) longer than any request runs.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EMPTY_MANIFEST, warehousePaths, type Manifest, type ManifestFile, type TableName } from './layout.ts';

/** Read access to a local warehouse's manifest. */
export interface WarehouseReader {
  readonly root: string;
  /** The current manifest (EMPTY_MANIFEST when none has been committed yet). */
  manifest(): Promise<Manifest>;
  /** Absolute path of a manifest file, for read_parquet. */
  absolutePath(file: ManifestFile): string;
  /** End (exclusive) of the newest UTC day holding data of `table`, or null when it has none: the default window end. */
  latestDataEnd(table?: TableName): Promise<Date | null>;
}

/** Thrown when the manifest exists but cannot be read as one. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

function parseManifest(path: string, text: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`${path}: not JSON (${(err as Error).message})`);
  }
  const m = value as Partial<Manifest>;
  if (m?.formatVersion !== 1 || !Array.isArray(m.files) || typeof m.generation !== 'number') {
    throw new ManifestError(`${path}: expected { formatVersion: 1, generation: number, files: [...] }`);
  }
  return m as Manifest;
}

/** End (exclusive) of the newest UTC day of `table` in `manifest`, or null when it has none. */
export function latestDataEndIn(manifest: Manifest, table: TableName = 'flows'): Date | null {
  let latest = '';
  for (const f of manifest.files) if (f.table === table && f.date > latest) latest = f.date;
  return latest ? new Date(Date.parse(`${latest}T00:00:00Z`) + 86_400_000) : null;
}

const pinnedViews = new WeakSet<WarehouseReader>();

/**
 * `reader` fixed to one manifest generation: the first `manifest()` call loads it, every later call (and
 * `latestDataEnd`) returns that same manifest. Made per request, so one response never mixes two generations.
 */
export function pinWarehouse(reader: WarehouseReader): WarehouseReader {
  if (pinnedViews.has(reader)) return reader;
  let pinned: Promise<Manifest> | null = null;
  const view: WarehouseReader = {
    root: reader.root,
    manifest: () => (pinned ??= reader.manifest()),
    absolutePath: (file) => reader.absolutePath(file),
    latestDataEnd: async (table = 'flows') => latestDataEndIn(await view.manifest(), table),
  };
  pinnedViews.add(view);
  return view;
}

/** A reader over the warehouse at `root`. */
export function createWarehouseReader(root: string): WarehouseReader {
  const path = warehousePaths(root).manifest;
  let current: Manifest = EMPTY_MANIFEST;
  let stamp = '';
  let pending: Promise<Manifest> | null = null;

  async function load(): Promise<Manifest> {
    const s = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    const next = s ? `${s.ino}:${s.size}:${s.mtimeMs}` : 'missing';
    if (next === stamp) return current;
    current = s ? parseManifest(path, await readFile(path, 'utf8')) : EMPTY_MANIFEST;
    stamp = next;
    return current;
  }

  return {
    root,
    manifest() {
      pending ??= load().finally(() => {
        pending = null;
      });
      return pending;
    },
    absolutePath: (file) => join(root, ...file.path.split('/')),
    async latestDataEnd(table = 'flows') {
      return latestDataEndIn(await this.manifest(), table);
    },
  };
}
