/**
 * `--watch` lists whole sources once an hour and, between, only today's and yesterday's AWS day folders
 * (src/ingest/sources/recent-listing.ts): runs of the real ingest over a local folder and over a real S3-compatible
 * server (s3rver on loopback), with the watch loop's clock set by the test.
 *
 * Fixture: one record per object, its bytes naming it. The clock reads 2026-12-08T10:00Z (today 12-08, yesterday
 * 12-07); objects sit in the day folders of 12-01 (old), 12-07 and 12-08, in AWS's default layout (local) and its
 * Hive-style layout (S3).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { RecentListing } from '../../src/ingest/sources/recent-listing.ts';
import type { Manifest } from '../../src/store/layout.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const ACCOUNT = '111122223333';
const NOW = Date.parse('2026-12-08T10:00:00Z');
const MINUTE = 60_000;

/** A gzip object of one record whose bytes are `bytes`, starting at noon of `date`. */
function object(date: string, bytes: number): Buffer {
  const start = Date.parse(`${date}T12:00:00Z`) / 1000;
  return gzipSync(
    `${HEADER}\n2 ${ACCOUNT} eni-01 10.0.0.1 10.0.0.2 443 50000 6 1 ${bytes} ${start} ${start + 60} ACCEPT OK\n`,
  );
}

const fileName = (date: string, n: number) =>
  `${ACCOUNT}_vpcflowlogs_eu-west-1_fl-0a1_${date.replaceAll('-', '')}T120${n}Z_0000000${n}.log.gz`;
const plainKey = (date: string, n: number) =>
  `AWSLogs/${ACCOUNT}/vpcflowlogs/eu-west-1/${date.replaceAll('-', '/')}/${fileName(date, n)}`;
const hiveKey = (date: string, n: number) => {
  const [y, m, d] = date.split('-');
  return `AWSLogs/aws-account-id=${ACCOUNT}/aws-service=vpcflowlogs/aws-region=eu-west-1/year=${y}/month=${m}/day=${d}/${fileName(date, n)}`;
};

/** The bytes of every flows row in the warehouse, sorted: which objects were loaded. */
async function loadedBytes(data: string): Promise<number[]> {
  const manifest = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
  const files = manifest.files.filter((f) => f.table === 'flows').map((f) => `'${join(data, f.path)}'`);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const read = await c.runAndReadAll(`SELECT bytes::INTEGER FROM read_parquet([${files.join(', ')}]) ORDER BY 1`);
    return read.getRows().map((r) => Number(r[0]));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function tempRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'flowql-recent-'));
  roots.push(root);
  return root;
}

describe('--watch listing of a local folder', () => {
  async function put(src: string, key: string, body: Buffer) {
    await mkdir(join(src, key, '..'), { recursive: true });
    await writeFile(join(src, key), body);
  }

  /**
   * A watched folder holding one object per day of `days` (bytes 1, 2, ...), its warehouse, and the watch loop's
   * listing on a clock the test moves (`clock.now`, from NOW); `run` is one ingest run of the loop.
   */
  async function watchedFolder(days: readonly string[]) {
    const root = await tempRoot();
    const src = join(root, 'src');
    const data = join(root, 'data');
    for (const [i, day] of days.entries()) await put(src, plainKey(day, i + 1), object(day, i + 1));
    const clock = { now: NOW };
    const listing = new RecentListing(60 * MINUTE, () => clock.now);
    const logs: string[] = [];
    const run = async () =>
      runIngest({
        sources: [src],
        storage: await createLocalWarehouseStorage(data),
        derive: false,
        listing,
        onLog: (l) => logs.push(l),
      });
    return { src, data, clock, logs, run };
  }

  it('lists the whole folder first and hourly, only the recent day folders between', async () => {
    const { src, data, clock, logs, run } = await watchedFolder(['2026-12-01', '2026-12-07', '2026-12-08']);

    const first = await run();
    expect(first.objects).toMatchObject({ listed: 3, loaded: 3 });
    expect(logs.some((l) => l.startsWith('listing the day folders'))).toBe(false);

    // 30 s later: a new object for today, and one delivered 7 days late into an old day folder.
    await put(src, plainKey('2026-12-08', 4), object('2026-12-08', 4));
    await put(src, plainKey('2026-12-01', 5), object('2026-12-01', 5));
    clock.now += 30_000;
    const second = await run();
    expect(second.objects).toMatchObject({ listed: 3, loaded: 1, skipped: 2 }); // 12-07's one and 12-08's two
    expect(logs).toContain('listing the day folders of 2026-12-07 and 2026-12-08 (UTC) and the newest only');
    expect(await loadedBytes(data)).toEqual([1, 2, 3, 4]);

    // An hour after the full listing: everything again, and the late object is found.
    clock.now = NOW + 60 * MINUTE;
    const third = await run();
    expect(third.objects).toMatchObject({ listed: 5, loaded: 1, skipped: 4 });
    expect(await loadedBytes(data)).toEqual([1, 2, 3, 4, 5]);

    // Past midnight, within the hour of a full listing: yesterday is now 12-08, and 12-09's folder does not exist yet
    // (nothing to list, no error).
    clock.now = Date.parse('2026-12-08T23:30:00Z');
    expect((await run()).objects).toMatchObject({ listed: 5, loaded: 0 });
    clock.now = Date.parse('2026-12-09T00:00:30Z');
    await put(src, plainKey('2026-12-08', 6), object('2026-12-08', 6));
    const fourth = await run();
    expect(fourth.objects).toMatchObject({ listed: 3, loaded: 1 });
    expect(await loadedBytes(data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('lists the newest day found and the next too: a replay of past days into a watched folder is seen at once', async () => {
    const { src, data, clock, run: runOnce } = await watchedFolder(['2023-11-13', '2023-11-14']);
    const run = async () => (await runOnce()).objects;
    expect(await run()).toMatchObject({ listed: 2, loaded: 2 });
    // The replay goes on in the newest day, then into the next; the day before the newest is not listed.
    await put(src, plainKey('2023-11-14', 3), object('2023-11-14', 3));
    await put(src, plainKey('2023-11-13', 4), object('2023-11-13', 4));
    clock.now += 30_000;
    expect(await run()).toMatchObject({ listed: 2, loaded: 1, skipped: 1 });
    await put(src, plainKey('2023-11-15', 5), object('2023-11-15', 5));
    clock.now += 30_000;
    expect(await run()).toMatchObject({ listed: 3, loaded: 1, skipped: 2 });
    // 11-15 is now the newest: 11-14 is no longer listed, 11-16 is.
    await put(src, plainKey('2023-11-16', 6), object('2023-11-16', 6));
    clock.now += 30_000;
    expect(await run()).toMatchObject({ listed: 2, loaded: 1, skipped: 1 });
    expect(await loadedBytes(data)).toEqual([1, 2, 3, 5, 6]);
  });

  it('lists a source whole at every run when a key sits outside the day folders, or when it names one day', async () => {
    const root = await tempRoot();
    const src = join(root, 'src');
    await put(src, plainKey('2026-12-01', 1), object('2026-12-01', 1));
    await put(src, 'downloads/loose.log.gz', object('2026-12-01', 2));
    const dayFolder = join(src, plainKey('2026-12-01', 1), '..');
    let now = NOW;
    for (const [source, listed] of [
      [src, 2],
      [dayFolder, 1],
    ] as const) {
      const listing = new RecentListing(60 * MINUTE, () => now);
      const data = join(root, `data-${listed}`);
      const storage = await createLocalWarehouseStorage(data);
      expect((await runIngest({ sources: [source], storage, derive: false, listing })).objects.listed).toBe(listed);
      now += 30_000;
      // The old day folder is not a recent one: a recent listing would have found nothing.
      expect((await runIngest({ sources: [source], storage, derive: false, listing })).objects).toMatchObject({
        listed,
        skipped: listed,
      });
    }
  });
});

describe('--watch listing of an S3 prefix', () => {
  let s3: S3TestServer;
  beforeAll(async () => {
    s3 = await startS3Server(['src']);
    // runIngest's S3 client takes the server's credentials from the environment (this file's own process).
    Object.assign(process.env, s3.env);
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('lists the recent day folders of each flow log the full listing found, under the prefix given, beside CloudTrail', async () => {
    const root = await tempRoot();
    const data = join(root, 'data');
    await s3.put('src', `logs/${hiveKey('2026-12-01', 1)}`, object('2026-12-01', 1));
    await s3.put('src', `logs/${hiveKey('2026-12-08', 2)}`, object('2026-12-08', 2));
    // CloudTrail under the same AWSLogs/: not a flow log (skipped once), and no reason to list the prefix whole.
    await s3.put(
      'src',
      `logs/AWSLogs/${ACCOUNT}/CloudTrail/eu-west-1/2026/12/08/${ACCOUNT}_CloudTrail_x.json.gz`,
      '{}',
    );
    let now = NOW;
    const listing = new RecentListing(60 * MINUTE, () => now);
    const run = async () =>
      runIngest({
        sources: ['s3://src/logs/'],
        storage: await createLocalWarehouseStorage(data),
        derive: false,
        listing,
        s3Endpoint: s3.endpoint,
        s3ForcePathStyle: true,
      });
    expect((await run()).objects).toMatchObject({ listed: 3, loaded: 2, notFlowLogs: 1 });

    await s3.put('src', `logs/${hiveKey('2026-12-07', 3)}`, object('2026-12-07', 3));
    await s3.put('src', `logs/${hiveKey('2026-12-01', 4)}`, object('2026-12-01', 4));
    now += 30_000;
    expect((await run()).objects).toMatchObject({ listed: 2, loaded: 1, skipped: 1 });
    expect(await loadedBytes(data)).toEqual([1, 2, 3]);

    now += 60 * MINUTE;
    expect((await run()).objects).toMatchObject({ listed: 5, loaded: 1, skipped: 4 });
    expect(await loadedBytes(data)).toEqual([1, 2, 3, 4]);
  });
});
