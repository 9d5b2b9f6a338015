/**
 * The S3 warehouse cache against s3rver on loopback, with hand-written manifests (the files' content does not matter
 * to the sync, only the listed paths and sizes):
 *   generation 1: a (3 B), b (4 B)                 -> downloads a, b
 *   generation 2: a (3 B), b' (5 B, rewritten), c -> downloads b and c; nothing deleted
 *   generation 3: c only                           -> downloads nothing, deletes nothing (a, b listed by generation 2)
 *   generation 3 again                             -> deletes a and b
 */
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createS3WarehouseCache, type S3WarehouseCache } from '../../../src/ingest/s3-warehouse-cache.ts';
import type { Manifest, ManifestFile } from '../../../src/store/layout.ts';
import { startS3Server, type S3TestServer } from '../../helpers/s3-server.ts';

let s3: S3TestServer;
let dir = '';
let cache: S3WarehouseCache;

const file = (name: string, bytes: number): ManifestFile => ({
  path: `flows/account_id=111122223333/region=eu-west-1/date=2023-11-14/${name}.parquet`,
  table: 'flows',
  accountId: '111122223333',
  region: 'eu-west-1',
  date: '2023-11-14',
  rows: 1,
  bytes,
});
const manifest = (generation: number, files: ManifestFile[]): Manifest => ({
  formatVersion: 1,
  generation,
  updatedAt: '2024-01-01T00:00:00.000Z',
  files,
  ingest: { objects: files.length, records: files.length, rejects: 0, lastIngestAt: null },
});

async function publish(m: Manifest, contents: Record<string, string>) {
  for (const [name, text] of Object.entries(contents)) await s3.put('lake', `wh/${file(name, 0).path}`, text);
  await s3.put('lake', 'wh/_flowql/manifest.json', JSON.stringify(m));
}

async function cached(): Promise<string[]> {
  const all = await readdir(join(cache.root, 'flows'), { recursive: true });
  return all
    .filter((p) => p.endsWith('.parquet'))
    .map((p) => p.slice(p.lastIndexOf('/') + 1))
    .sort();
}

beforeAll(async () => {
  s3 = await startS3Server(['lake']);
  dir = await mkdtemp(join(tmpdir(), 'flowql-s3-cache-'));
  cache = await createS3WarehouseCache('s3://lake/wh', { client: s3.client, cacheDir: dir });
});

afterAll(async () => {
  await cache?.close();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('is empty (no manifest written) before the warehouse has one', async () => {
  expect(await cache.sync()).toEqual({ generation: 0, downloaded: 0, deleted: 0 });
  await expect(readFile(join(cache.root, '_flowql/manifest.json'), 'utf8')).rejects.toThrow(/ENOENT/);
});

it('downloads what is new or changed, writes the manifest, and deletes files one sync after they leave it', async () => {
  const one = manifest(1, [file('a', 3), file('b', 4)]);
  await publish(one, { a: 'aaa', b: 'bbbb' });
  expect(await cache.sync()).toEqual({ generation: 1, downloaded: 2, deleted: 0 });
  expect(JSON.parse(await readFile(join(cache.root, '_flowql/manifest.json'), 'utf8'))).toEqual(one);

  await publish(manifest(2, [file('a', 3), file('b', 5), file('c', 2)]), { b: 'BBBBB', c: 'cc' });
  const [first, second] = await Promise.all([cache.sync(), cache.sync()]); // concurrent calls share one sync
  expect(first).toEqual({ generation: 2, downloaded: 2, deleted: 0 });
  expect(second).toBe(first);
  expect(await readFile(join(cache.root, file('b', 0).path), 'utf8')).toBe('BBBBB');

  await publish(manifest(3, [file('c', 2)]), {});
  expect(await cache.sync()).toEqual({ generation: 3, downloaded: 0, deleted: 0 });
  expect(await cached()).toEqual(['a.parquet', 'b.parquet', 'c.parquet']);
  expect(await cache.sync()).toEqual({ generation: 3, downloaded: 0, deleted: 2 });
  expect(await cached()).toEqual(['c.parquet']);
});
