/**
 * The API's view of the warehouse: the committed manifest (src/store/layout.ts), reloaded when the file changes so
 * `flowql serve` picks up newly ingested data without a restart. A reload costs one `stat` per request; the JSON is
 * parsed only when size or mtime changed, and concurrent requests share one read.
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
      const m = await this.manifest();
      let latest = '';
      for (const f of m.files) if (f.table === table && f.date > latest) latest = f.date;
      return latest ? new Date(Date.parse(`${latest}T00:00:00Z`) + 86_400_000) : null;
    },
  };
}
