/**
 * The S3 replica cache against s3rver on loopback, with hand-written manifests (the files' content does not matter
 * to the cache, only the listed paths and sizes): a (3 B), b (4 B), c (5 B), under a 10-byte bound.
 *   sync                        -> the manifest locally, no file downloaded
 *   three holds of a at once    -> one download
 *   a, b, c one after another   -> a (least recently used) evicted: b and c (9 B) stay
 *   a, b, c held at once        -> 12 B on disk (held files pass the bound), back under it once released
 *   a manifest without a and b  -> kept one sync (a request may hold the previous generation), then deleted
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createS3WarehouseCache, type S3WarehouseCache } from '../../../src/ingest/s3-warehouse-cache.ts';
import type { Manifest, ManifestFile } from '../../../src/store/layout.ts';
import { WarehouseDamagedError } from '../../../src/store/warehouse-damage.ts';
import { startS3Server, type S3TestServer } from '../../helpers/s3-server.ts';

let s3: S3TestServer;
let dir = '';
const opened: S3WarehouseCache[] = [];

const file = (name: string, bytes: number): ManifestFile => ({
  path: `flows/account_id=111122223333/region=eu-west-1/date=2023-11-14/${name}.parquet`,
  table: 'flows',
  accountId: '111122223333',
  region: 'eu-west-1',
  date: '2023-11-14',
  rows: 1,
  bytes,
});
const A = file('a', 3);
const B = file('b', 4);
const C = file('c', 5);
const manifest = (generation: number, files: ManifestFile[]): Manifest => ({
  formatVersion: 1,
  generation,
  updatedAt: '2024-01-01T00:00:00.000Z',
  files,
  ingest: { objects: files.length, records: files.length, rejects: 0, lastIngestAt: null },
});

async function open(name: string): Promise<S3WarehouseCache> {
  const cache = await createS3WarehouseCache('s3://lake/wh', {
    client: s3.client,
    cacheDir: join(dir, name),
    maxBytes: 10,
  });
  opened.push(cache);
  return cache;
}

/** Names of the files on disk under the cache's flows partition (temp names included). */
async function onDisk(cache: S3WarehouseCache): Promise<string[]> {
  const all = await readdir(join(cache.root, 'flows'), { recursive: true }).catch(() => []);
  return all
    .filter((p) => /\.(parquet|part)$/.test(p))
    .map((p) => p.slice(p.lastIndexOf('/') + 1))
    .sort();
}

beforeAll(async () => {
  s3 = await startS3Server(['lake']);
  dir = await mkdtemp(join(tmpdir(), 'flowql-s3-cache-'));
  for (const [f, text] of [
    [A, 'aaa'],
    [B, 'bbbb'],
    [C, 'ccccc'],
  ] as const)
    await s3.put('lake', `wh/${f.path}`, text);
});

afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.close();
});

afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('syncs only the manifest, and downloads a file once however many hold it at once', async () => {
  const cache = await open('once');
  expect(await cache.sync()).toEqual({ generation: 0, deleted: 0, cachedFiles: 0, cachedBytes: 0 });
  await expect(readFile(join(cache.root, '_flowql/manifest.json'), 'utf8')).rejects.toThrow(/ENOENT/);

  const one = manifest(1, [A, B, C]);
  await s3.put('lake', 'wh/_flowql/manifest.json', JSON.stringify(one));
  expect(await cache.sync()).toEqual({ generation: 1, deleted: 0, cachedFiles: 0, cachedBytes: 0 });
  expect(JSON.parse(await readFile(join(cache.root, '_flowql/manifest.json'), 'utf8'))).toEqual(one);
  expect(await onDisk(cache)).toEqual([]);

  const releases = await Promise.all([1, 2, 3].map(() => cache.files.hold([A])));
  expect(cache.stats()).toMatchObject({ downloads: 1, files: 1, bytes: 3, pinnedFiles: 1 });
  expect(await readFile(join(cache.root, A.path), 'utf8')).toBe('aaa');
  for (const release of releases) release();
  expect(cache.stats()).toMatchObject({ pinnedFiles: 0, files: 1 });
  await cache.files.hold([A]).then((release) => release()); // cached: no second download
  expect(cache.stats().downloads).toBe(1);
});

it('evicts the least recently used file to stay under its bound, never a held one', async () => {
  const cache = await open('bound');
  await s3.put('lake', 'wh/_flowql/manifest.json', JSON.stringify(manifest(1, [A, B, C])));
  await cache.sync();
  for (const f of [A, B, C]) (await cache.files.hold([f]))();
  expect(await onDisk(cache)).toEqual(['b.parquet', 'c.parquet']);
  expect(cache.stats()).toMatchObject({ bytes: 9, evictions: 1, downloads: 3 });

  // B used again, then A back: C is now the least recently used and goes.
  (await cache.files.hold([B]))();
  (await cache.files.hold([A]))();
  expect(await onDisk(cache)).toEqual(['a.parquet', 'b.parquet']);

  const release = await cache.files.hold([A, B, C]);
  expect(await onDisk(cache)).toEqual(['a.parquet', 'b.parquet', 'c.parquet']);
  expect(cache.stats()).toMatchObject({ bytes: 12, pinnedFiles: 3 });
  release();
  expect(cache.stats().bytes).toBeLessThanOrEqual(10);
  await cache.close(); // waits for the deletions
  expect((await onDisk(cache)).length).toBe(2);
});

it('keeps files that left the manifest for one sync, deletes a held one only when released', async () => {
  const cache = await open('retire');
  await s3.put('lake', 'wh/_flowql/manifest.json', JSON.stringify(manifest(1, [A, B])));
  await cache.sync();
  (await cache.files.hold([A]))();
  const holdingB = await cache.files.hold([B]);

  await s3.put('lake', 'wh/_flowql/manifest.json', JSON.stringify(manifest(2, [C])));
  expect(await cache.sync()).toMatchObject({ generation: 2, deleted: 0 }); // generation 1 may still be read
  expect(await cache.sync()).toMatchObject({ generation: 2, deleted: 1 }); // a goes; b is held
  expect(cache.stats().files).toBe(1);
  holdingB();
  expect(cache.stats().files).toBe(0);
  await cache.close();
  expect(await onDisk(cache)).toEqual([]);
});

it('names a file the manifest lists and S3 does not have as damage, and caches nothing for it', async () => {
  const cache = await open('missing');
  const gone = file('gone', 7);
  await s3.put('lake', 'wh/_flowql/manifest.json', JSON.stringify(manifest(1, [A, gone])));
  await cache.sync();
  const failed = await cache.files.hold([A, gone]).catch((err: unknown) => err);
  expect(failed).toBeInstanceOf(WarehouseDamagedError);
  expect((failed as WarehouseDamagedError).file).toBe(gone.path);
  expect(cache.stats()).toMatchObject({ pinnedFiles: 0, files: 1 }); // a came, unheld
  expect(await onDisk(cache)).toEqual(['a.parquet']);
});

it('restarts warm: files a previous run left are cached entries, temp files are removed', async () => {
  const first = await open('warm');
  await s3.put('lake', 'wh/_flowql/manifest.json', JSON.stringify(manifest(1, [A, B])));
  await first.sync();
  (await first.files.hold([A, B]))();
  await first.close();
  opened.splice(opened.indexOf(first), 1);
  const again = await open('warm');
  expect(again.stats()).toMatchObject({ files: 2, bytes: 7 });
  (await again.files.hold([A, B]))();
  expect(again.stats().downloads).toBe(0);
});
