/**
 * `flowql serve --data s3://bucket/prefix`: the API reads a local cache of the warehouse, kept in step with S3 by the
 * manifest, so several stateless replicas can serve one warehouse. A sync reads the manifest from S3, downloads the
 * files it lists that are missing here or differ in size (committed files are immutable part-<uuid> files, so size is
 * enough to catch a torn copy), writes the manifest locally last and atomically (the API only ever sees a manifest
 * whose files are all present), then deletes cached files listed by neither this manifest (as live or retired) nor
 * the previous one: a request pinned to an older generation may still open them, and the writer keeps a retired file
 * on S3 (and in the manifest's `retired`) for its grace period, so the cache keeps its copy as long (docs/ARCHITECTURE.md).
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3WarehouseStorage, type S3WarehouseStorage } from './s3-warehouse-storage.ts';
import { warehousePaths, type Manifest } from '../store/layout.ts';

/** What one sync did. */
export interface S3SyncReport {
  readonly generation: number;
  readonly downloaded: number;
  readonly deleted: number;
}

/** A local mirror of an S3 warehouse: `root` is the API's warehouse root. */
export interface S3WarehouseCache {
  readonly root: string;
  /** One sync (concurrent calls share the one in progress). */
  sync(): Promise<S3SyncReport>;
  /** Syncs every `intervalMs` until close(); a failed sync is reported and the cache keeps serving what it has. */
  start(intervalMs: number, onResult: (err: Error | null, report: S3SyncReport | null) => void): void;
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
  /** Files downloaded at once. */
  readonly concurrency?: number;
}

const sizeOf = (path: string) =>
  stat(path).then(
    (s) => s.size,
    () => -1,
  );

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

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
  let previous = new Set<string>();
  let running: Promise<S3SyncReport> | null = null;
  let timer: NodeJS.Timeout | null = null;

  async function syncOnce(): Promise<S3SyncReport> {
    const manifest: Manifest | null = await storage.readManifest();
    await mkdir(paths.meta, { recursive: true });
    if (manifest === null) return { generation: 0, downloaded: 0, deleted: 0 };
    let downloaded = 0;
    const queue = [...manifest.files];
    const worker = async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const local = join(root, ...f.path.split('/'));
        const size = await sizeOf(local);
        if (size === f.bytes) continue;
        if (size >= 0) await rm(local, { force: true });
        await storage.readableFile(f.path);
        downloaded += 1;
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
    const tmp = `${paths.manifest}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(manifest));
    await rename(tmp, paths.manifest);
    const listed = new Set(manifest.files.map((f) => f.path));
    const retired = new Set((manifest.retired ?? []).map((f) => f.path));
    let deleted = 0;
    for (const file of await walk(root)) {
      const path = relative(root, file).split(sep).join('/');
      if (path.startsWith('_flowql/') || listed.has(path) || retired.has(path) || previous.has(path)) continue;
      await rm(file, { force: true });
      deleted += 1;
    }
    previous = listed;
    return { generation: manifest.generation, downloaded, deleted };
  }

  const sync = () => {
    running ??= syncOnce().finally(() => (running = null));
    return running;
  };

  return {
    root,
    sync,
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
      await storage.close();
    },
  };
}
