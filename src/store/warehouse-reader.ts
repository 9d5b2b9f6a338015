/**
 * The API's view of the warehouse: the committed manifest (src/store/layout.ts), reloaded when the file changes so
 * `flowql serve` picks up newly ingested data without a restart. A reload costs one `stat` per request; the JSON is
 * parsed only when size or mtime changed, and concurrent requests share one read.
 *
 * One request reads one generation: the HTTP layer hands each request a `pinWarehouse` view, so every field of a
 * GraphQL response (and every statement of a download) plans on the same manifest, and the ingester keeps the files
 * of older generations on storage for a grace period (src/ingest/retired-files.ts) longer than any request runs.
 *
 * The same view is where a request's files become readable: every question passes the files it pruned to
 * `prepare` before its statement opens them. A local warehouse has them all (a no-op); an S3 replica's reader has a
 * `FileSource` (src/ingest/s3-warehouse-cache.ts) that fetches the missing ones into a bounded disk cache and keeps
 * them there (pinned against eviction) until the request ends and `release` lets them go.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EMPTY_MANIFEST, warehousePaths, type Manifest, type ManifestFile, type TableName } from './layout.ts';

/**
 * Where the committed files of a warehouse whose files are not all on local disk come from (an S3 replica's cache).
 * `hold` makes the given files (paths relative to the root, with the manifest's sizes) present under the root and
 * keeps them there until the returned release is called; concurrent holds of one missing file share its download.
 */
export interface FileSource {
  hold(files: readonly Pick<ManifestFile, 'path' | 'bytes'>[]): Promise<() => void>;
  /** What the source keeps and has fetched, for /metrics. */
  stats?(): FileSourceStats;
}

/** A FileSource's figures: what is on disk now, and counters since start. */
export interface FileSourceStats {
  readonly files: number;
  readonly bytes: number;
  readonly maxBytes: number;
  /** Files held by running requests (not evictable). */
  readonly pinnedFiles: number;
  readonly downloads: number;
  readonly downloadedBytes: number;
  readonly evictions: number;
}

/** Read access to a local warehouse's manifest. */
export interface WarehouseReader {
  readonly root: string;
  /** The current manifest (EMPTY_MANIFEST when none has been committed yet). */
  manifest(): Promise<Manifest>;
  /** Absolute path of a manifest file, for read_parquet (see `prepare`). */
  absolutePath(file: Pick<ManifestFile, 'path'>): string;
  /** End (exclusive) of the newest UTC day holding data of `table`, or null when it has none: the default window end. */
  latestDataEnd(table?: TableName): Promise<Date | null>;
  /** Set when committed files are fetched on demand rather than all on disk (readiness then cannot stat them). */
  readonly files?: FileSource;
  /**
   * Makes `files` readable at absolutePath for the rest of the request: a no-op when every file is on disk; with a
   * FileSource, only a request's view (pinWarehouse) can, since it alone knows when the request ends.
   */
  prepare(files: readonly Pick<ManifestFile, 'path' | 'bytes'>[]): Promise<void>;
}

/** A request's view (pinWarehouse): `release` ends the request's hold on the files it prepared. */
export interface PinnedWarehouse extends WarehouseReader {
  /** Lets the files prepared so far go (idempotent); call once no statement of the request can still open them. */
  release(): void;
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

const pinnedViews = new WeakSet<PinnedWarehouse>();

const isPinned = (reader: WarehouseReader): reader is PinnedWarehouse => pinnedViews.has(reader as PinnedWarehouse);

/**
 * `reader` fixed to one manifest generation: the first `manifest()` call loads it, every later call (and
 * `latestDataEnd`) returns that same manifest. Made per request, so one response never mixes two generations; it
 * also holds the files the request prepared (each at most once, however many statements read it) until `release`.
 */
export function pinWarehouse(reader: WarehouseReader): PinnedWarehouse {
  if (isPinned(reader)) return reader;
  let pinned: Promise<Manifest> | null = null;
  const source = reader.files;
  // One hold per file and request: a second field reading a file waits for the first one's fetch.
  const held = new Map<string, Promise<void>>();
  const releases: (() => void)[] = [];
  let released = false;
  const view: PinnedWarehouse = {
    root: reader.root,
    manifest: () => (pinned ??= reader.manifest()),
    absolutePath: (file) => reader.absolutePath(file),
    latestDataEnd: async (table = 'flows') => latestDataEndIn(await view.manifest(), table),
    ...(source ? { files: source } : {}),
    async prepare(files) {
      if (!source) return;
      const fresh = files.filter((f) => !held.has(f.path));
      if (fresh.length > 0) {
        const holding = source.hold(fresh).then((release) => {
          // A fetch that ends after the request did (a client hung up) must not leave its files pinned.
          if (released) release();
          else releases.push(release);
        });
        for (const f of fresh) held.set(f.path, holding);
        // A failed fetch is not remembered: the next statement of the request may try again.
        holding.catch(() => {
          for (const f of fresh) if (held.get(f.path) === holding) held.delete(f.path);
        });
      }
      await Promise.all(files.map((f) => held.get(f.path)));
    },
    release() {
      released = true;
      held.clear();
      for (const release of releases.splice(0)) release();
    },
  };
  pinnedViews.add(view);
  return view;
}

/** Releases `reader`'s files when it is a request's view (pinWarehouse); nothing otherwise. */
export function releaseWarehouse(reader: WarehouseReader): void {
  if (isPinned(reader)) reader.release();
}

/** A reader over the warehouse at `root`; with `files`, its committed files are fetched on demand (see FileSource). */
export function createWarehouseReader(root: string, files?: FileSource): WarehouseReader {
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
    ...(files ? { files } : {}),
    async prepare() {
      // Files held without a request's end to release them would stay pinned forever and defeat the cache's bound.
      if (files) throw new Error(`${root}: files fetched on demand are read through a request's view (pinWarehouse)`);
    },
  };
}
