/**
 * `flowql serve --data s3://bucket/prefix`: the API reads a local cache of the warehouse, kept in step with S3 by the
 * manifest, so several stateless replicas can serve one warehouse without each holding all of it.
 *
 * Only the manifest is synced: a sync reads it from S3 and writes it locally (temp file + rename), and the Parquet
 * files a request prunes to are fetched on first use (`files.hold`, called through the request's pinned view,
 * src/store/warehouse-reader.ts) into a disk cache bounded by `maxBytes`, least recently used out:
 * - one download per file however many requests want it at once (they wait for the same promise);
 * - a download is written to a temp name and renamed, so no reader opens a half-written file;
 * - a file held by a running request is never evicted under it: the bound is exceeded while held files alone pass
 *   it (a single request over more data than the bound, or a burst of requests), and restored as they are released;
 * - files that left the manifest go as the retired-file rule allows (docs/ARCHITECTURE.md): a cached file listed by
 *   neither this manifest (live or retired) nor the previous one is deleted at the sync that finds it so, or when the
 *   last request holding it lets go. A request pinned to an older generation may still fetch one of its files: the
 *   writer keeps it on S3 for the grace period.
 * Committed files are immutable part-<uuid> files, so a cached copy never goes stale.
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3WarehouseStorage, type S3WarehouseStorage } from './s3-warehouse-storage.ts';
import { warehousePaths, type Manifest, type ManifestFile } from '../store/layout.ts';
import { reportDamage, WarehouseDamagedError } from '../store/warehouse-damage.ts';
import type { FileSource, FileSourceStats } from '../store/warehouse-reader.ts';

/** What one sync did. */
export interface S3SyncReport {
  readonly generation: number;
  /** Cached files deleted because no manifest a request may still hold lists them. */
  readonly deleted: number;
  readonly cachedFiles: number;
  readonly cachedBytes: number;
}

/** A replica's view of an S3 warehouse: `root` is the API's warehouse root, `files` fetches what requests read. */
export interface S3WarehouseCache {
  readonly root: string;
  readonly files: FileSource;
  /** One sync of the manifest (concurrent calls share the one in progress). */
  sync(): Promise<S3SyncReport>;
  /** Syncs every `intervalMs` until close(); a failed sync is reported and the cache keeps serving what it has. */
  start(intervalMs: number, onResult: (err: Error | null, report: S3SyncReport | null) => void): void;
  stats(): FileSourceStats;
  close(): Promise<void>;
}

/** How to reach the warehouse and where to cache it. */
export interface S3CacheOptions {
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  /** A ready client (tests); otherwise one is built from endpoint and the SDK's default credential chain. */
  readonly client?: S3Client;
  /** Cache folder (kept across restarts, so a replica restarts warm); default a temp folder removed by close(). */
  readonly cacheDir?: string;
  /** Bytes of Parquet files kept on disk (files held by running requests may exceed it); default 10 GiB. */
  readonly maxBytes?: number;
  /** Files downloaded at once. */
  readonly concurrency?: number;
  /** Called after each download (logs). */
  readonly onFetch?: (path: string, bytes: number, ms: number) => void;
}

/** One cached (or downloading) file. */
interface Entry {
  readonly path: string;
  bytes: number;
  /** Requests holding it: never evicted while above 0. */
  pins: number;
  /** Resolves when the file is on disk; null once it is. */
  ready: Promise<void> | null;
}

export const DEFAULT_CACHE_MAX_BYTES = 10 * 2 ** 30;

/** Files under `dir` with their size and mtime; [] when it does not exist. */
async function walk(dir: string): Promise<{ file: string; size: number; mtimeMs: number }[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const stats = await Promise.all(files.map((file) => stat(file).catch(() => null)));
  return files.flatMap((file, i) => {
    const s = stats[i];
    return s ? [{ file, size: s.size, mtimeMs: s.mtimeMs }] : [];
  });
}

const partitionOf = (path: string): string | null => {
  const m = /account_id=([^/]+)\/region=([^/]+)\/date=([^/]+)\//.exec(path);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : null;
};

/** Opens the S3 warehouse at `uri` (failing at once, naming it, when the bucket is unreachable); does not sync yet. */
export async function createS3WarehouseCache(uri: string, opts: S3CacheOptions = {}): Promise<S3WarehouseCache> {
  const storage: S3WarehouseStorage = await createS3WarehouseStorage(uri, {
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle,
    workDir: opts.cacheDir,
    ...(opts.client ? { client: opts.client } : {}),
  });
  // readableFile() caches a committed file at <workDir>/committed/<path>: that folder is the warehouse root.
  const root = join(storage.stagingDir, '..', 'committed');
  const paths = warehousePaths(root);
  const maxBytes = opts.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
  const local = (path: string) => join(root, ...path.split('/'));

  /** In least-recently-used order: a use moves an entry to the end. */
  const entries = new Map<string, Entry>();
  /** Deletions under way: a new download of the same path waits for them, or it could be deleted once written. */
  const deleting = new Map<string, Promise<void>>();
  let total = 0;
  const counts = { downloads: 0, downloadedBytes: 0, evictions: 0 };
  /** Paths a request may still open: the current manifest's live and retired files and the previous live ones. */
  let keep: Set<string> | null = null;
  let previous = new Set<string>();
  let writtenGeneration = -1;
  let generation = 0;
  let running: Promise<S3SyncReport> | null = null;
  let timer: NodeJS.Timeout | null = null;

  // A warm restart: files a previous run left are cached entries (oldest first); temp files of a crashed download go.
  await mkdir(paths.meta, { recursive: true });
  for (const { file, size } of (await walk(root)).sort((a, b) => a.mtimeMs - b.mtimeMs)) {
    const path = relative(root, file).split(sep).join('/');
    if (path.startsWith('_flowql/')) continue;
    if (!path.endsWith('.parquet')) {
      await rm(file, { force: true });
      continue;
    }
    entries.set(path, { path, bytes: size, pins: 0, ready: null });
    total += size;
  }

  function drop(e: Entry): void {
    if (entries.get(e.path) !== e) return;
    entries.delete(e.path);
    total -= e.bytes;
    const done = rm(local(e.path), { force: true })
      .catch(() => {})
      .finally(() => {
        if (deleting.get(e.path) === done) deleting.delete(e.path);
      });
    deleting.set(e.path, done);
  }

  /** Evicts unheld files, least recently used first, until the cache fits its bound (or only held files are left). */
  function evict(): void {
    for (const e of entries.values()) {
      if (total <= maxBytes) return;
      if (e.pins > 0 || e.ready !== null) continue;
      drop(e);
      counts.evictions += 1;
    }
  }

  let active = 0;
  const waiting: (() => void)[] = [];
  async function download(e: Entry): Promise<void> {
    while (active >= (opts.concurrency ?? 8)) await new Promise<void>((go) => waiting.push(go));
    active += 1;
    const started = performance.now();
    try {
      await deleting.get(e.path);
      await storage.readableFile(e.path).catch((err: unknown) => {
        // The manifest lists it and S3 does not have it: damage, as a missing local file would be.
        if (!/does not exist$/.test((err as Error).message)) throw err;
        const partition = partitionOf(e.path);
        reportDamage(root, { file: e.path, partition, reason: 'missing on S3', generation });
        throw new WarehouseDamagedError(e.path, partition, 'missing on S3');
      });
      const size = (await stat(local(e.path))).size;
      total += size - e.bytes;
      e.bytes = size;
      counts.downloads += 1;
      counts.downloadedBytes += size;
      opts.onFetch?.(e.path, size, Math.round(performance.now() - started));
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  }

  function take(f: Pick<ManifestFile, 'path' | 'bytes'>): Entry {
    const e = entries.get(f.path);
    if (e) {
      entries.delete(f.path); // to the most recently used end
      entries.set(f.path, e);
      e.pins += 1;
      return e;
    }
    const entry: Entry = { path: f.path, bytes: f.bytes, pins: 1, ready: null };
    entries.set(f.path, entry);
    total += f.bytes;
    evict(); // room for it, counted at the manifest's size until it is on disk
    entry.ready = download(entry).then(
      () => {
        entry.ready = null;
        evict();
      },
      (err: unknown) => {
        if (entries.get(entry.path) === entry) {
          entries.delete(entry.path);
          total -= entry.bytes;
        }
        throw err;
      },
    );
    return entry;
  }

  function unpin(e: Entry): void {
    e.pins -= 1;
    if (e.pins > 0 || entries.get(e.path) !== e || e.ready !== null) return;
    if (keep !== null && !keep.has(e.path)) drop(e);
    else evict();
  }

  const files: FileSource = {
    async hold(wanted) {
      const taken = wanted.map(take);
      // Every download settles before a failure is reported, so a failed request leaves nothing running behind it.
      const failed = (await Promise.allSettled(taken.map((e) => e.ready))).find((r) => r.status === 'rejected');
      if (failed) {
        for (const e of taken) unpin(e);
        throw failed.reason;
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const e of taken) unpin(e);
      };
    },
    stats: () => stats(),
  };

  function stats(): FileSourceStats {
    let pinned = 0;
    for (const e of entries.values()) if (e.pins > 0) pinned += 1;
    return { files: entries.size, bytes: total, maxBytes, pinnedFiles: pinned, ...counts };
  }

  async function syncOnce(): Promise<S3SyncReport> {
    const manifest: Manifest | null = await storage.readManifest();
    const report = (deleted: number): S3SyncReport => ({
      generation,
      deleted,
      cachedFiles: entries.size,
      cachedBytes: total,
    });
    if (manifest === null) return report(0);
    generation = manifest.generation;
    if (manifest.generation !== writtenGeneration) {
      // Atomic, so the reader never parses half a manifest; its files need not be here (requests fetch them).
      const tmp = `${paths.manifest}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(manifest));
      await rename(tmp, paths.manifest);
      writtenGeneration = manifest.generation;
    }
    const listed = new Set(manifest.files.map((f) => f.path));
    // Reference snapshots (ip-ranges, networks) are committed files too; requests fetch them the same way.
    for (const ref of manifest.references ?? []) listed.add(ref.path);
    keep = new Set([...listed, ...(manifest.retired ?? []).map((f) => f.path), ...previous]);
    previous = listed;
    let deleted = 0;
    for (const e of [...entries.values()]) {
      if (keep.has(e.path) || e.pins > 0 || e.ready !== null) continue; // a held one goes when released
      drop(e);
      deleted += 1;
    }
    return report(deleted);
  }

  const sync = () => {
    running ??= syncOnce().finally(() => (running = null));
    return running;
  };

  return {
    root,
    files,
    sync,
    stats,
    start(intervalMs, onResult) {
      const tick = () => {
        sync()
          .then(
            (r) => onResult(null, r),
            (err: unknown) => onResult(err as Error, null),
          )
          .finally(() => {
            if (timer !== null) timer = setTimeout(tick, intervalMs);
          });
      };
      timer = setTimeout(tick, intervalMs);
    },
    async close() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await running?.catch(() => {});
      await Promise.all([...entries.values()].map((e) => e.ready?.catch(() => {})));
      await Promise.all(deleting.values());
      await storage.close();
    },
  };
}
