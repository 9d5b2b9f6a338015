/**
 * Readers never lose a file (issue 17.2): GraphQL requests and downloads over a real port while an in-process ingest
 * makes many small commits (each re-derives the day's derived files, retiring the previous ones) and compactions
 * retire flows files. Every request must answer, its fields must agree on one manifest generation, and the totals
 * seen by each client must only grow. Files a commit retires stay on disk for the grace period, and a later run
 * deletes them once it has passed.
 *
 * Objects: one partition (111122223333/eu-west-1/2023-11-14); object i holds 3 records of bytes 10*i+1..10*i+3
 * at 22:13:20 UTC, so after n objects records = 3n and bytes = sum over i of (30i + 6).
 */
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompact } from '../../src/ingest/ingest-compact.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import type { RunningServer } from '../../src/main.ts';
import type { Manifest } from '../../src/store/layout.ts';
import { startTestServer } from '../helpers/tenant-fixture.ts';

const DIR = 'AWSLogs/111122223333/vpcflowlogs/eu-west-1/2023/11/14';
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const START = 1700000000; // 2023-11-14T22:13:20Z
const DAY = '{ from: "2023-11-14T00:00:00Z", to: "2023-11-15T00:00:00Z" }';
// The whole-day summary reads flows_hourly; with a source-port filter it reads the records (two tables, one answer).
const QUERY = `{ ingestStatus { generation records }
  hourly: flowSummary(filter: { timeRange: ${DAY} }) { records bytes }
  raw: flowSummary(filter: { timeRange: ${DAY}, srcPort: [{ from: 0, to: 65535 }] }) { records bytes } }`;

const objectOf = (i: number) =>
  gzipSync(
    `${HEADER}\n${[1, 2, 3]
      .map(
        (k) =>
          `2 111122223333 eni-0${k}aaaaaaaaaaaaaaa 10.1.0.${k} 10.1.0.9 ${40000 + i} 443 6 1 ${10 * i + k} ${START} ${START + 60} ACCEPT OK`,
      )
      .join('\n')}\n`,
  );
const bytesAfter = (n: number) => Array.from({ length: n }, (_, i) => 30 * i + 6).reduce((a, b) => a + b, 0);
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
const manifestOf = async (data: string) =>
  JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;

interface Answer {
  ingestStatus: { generation: number; records: string };
  hourly: { records: string; bytes: string };
  raw: { records: string; bytes: string };
}

let root: string;
let src: string;
let data: string;
let server: RunningServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-commit-readers-'));
  src = join(root, 'src', DIR);
  data = join(root, 'data');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'object-00.log.gz'), objectOf(0));
  await runIngest({ sources: [join(root, 'src')], storage: await createLocalWarehouseStorage(data), threads: 1 });
  ({ server } = await startTestServer({ dataDir: data }));
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('queries during commits', () => {
  it('answer every request from one generation, with totals that only grow, while 16 ingests and 4 compactions commit', async () => {
    const problems: string[] = [];
    const seenPaths = new Set<string>();
    let stop = false;
    let requests = 0;
    let downloads = 0;

    async function client(name: string): Promise<void> {
      let last = { generation: 0, records: 0 };
      while (!stop) {
        const res = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: QUERY }),
        });
        const body = (await res.json()) as { data?: Answer; errors?: unknown[] };
        requests++;
        if (res.status !== 200 || body.errors || !body.data) {
          problems.push(`${name}: ${res.status} ${JSON.stringify(body.errors ?? body)}`);
          continue;
        }
        const { ingestStatus, hourly, raw } = body.data;
        const records = Number(ingestStatus.records);
        if (
          hourly.records !== ingestStatus.records ||
          raw.records !== ingestStatus.records ||
          hourly.bytes !== raw.bytes
        ) {
          problems.push(`${name}: one request, two generations: ${JSON.stringify(body.data)}`);
        }
        if (ingestStatus.generation < last.generation || records < last.records) {
          problems.push(
            `${name}: went back from ${JSON.stringify(last)} to generation ${ingestStatus.generation}, ${records} records`,
          );
        }
        if (hourly.bytes !== String(bytesAfter(records / 3)))
          problems.push(`${name}: ${records} records but ${hourly.bytes} bytes`);
        last = { generation: ingestStatus.generation, records };
      }
    }

    async function downloader(): Promise<void> {
      while (!stop) {
        const res = await fetch(`${server.url}/datasets/summary.csv?from=2023-11-14T00:00:00Z&to=2023-11-15T00:00:00Z`);
        const text = await res.text();
        downloads++;
        if (res.status !== 200) problems.push(`download: ${res.status} ${text}`);
      }
    }

    const readers = [client('a'), client('b'), downloader()];
    try {
      for (const f of (await manifestOf(data)).files) seenPaths.add(f.path);
      for (let i = 1; i <= 16; i++) {
        await writeFile(join(src, `object-${String(i).padStart(2, '0')}.log.gz`), objectOf(i));
        await runIngest({ sources: [join(root, 'src')], storage: await createLocalWarehouseStorage(data), threads: 1 });
        if (i % 4 === 0) await runCompact({ storage: await createLocalWarehouseStorage(data) });
        for (const f of (await manifestOf(data)).files) seenPaths.add(f.path);
      }
    } finally {
      stop = true;
      await Promise.all(readers);
    }
    expect(problems).toEqual([]);
    expect(requests).toBeGreaterThan(20);
    expect(downloads).toBeGreaterThan(5);

    const final = await manifestOf(data);
    expect([final.ingest.records, final.files.filter((f) => f.table === 'flows').length]).toEqual([51, 1]);
    // Every file any of those manifests listed is still on disk: the default grace period (10 minutes) has not passed.
    const retired = new Set((final.retired ?? []).map((f) => f.path));
    const live = new Set(final.files.map((f) => f.path));
    for (const path of seenPaths) {
      expect(await exists(join(data, path)), path).toBe(true);
      expect(live.has(path) || retired.has(path), path).toBe(true);
    }
    // 16 ingests re-derived 3 derived files each, and 4 compactions merged flows files: all of it retired.
    expect(retired.size).toBeGreaterThanOrEqual(16 * 3 + 4);

    // A run with no grace period deletes them all (recovery sweeps them) and leaves the live files alone.
    await runCompact({ storage: await createLocalWarehouseStorage(data, { retireGraceMs: 0 }) });
    for (const path of retired) expect(await exists(join(data, path)), path).toBe(false);
    for (const path of live) expect(await exists(join(data, path)), path).toBe(true);
    const after = (await (
      await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: QUERY }),
      })
    ).json()) as { data: Answer };
    expect(after.data.hourly).toEqual({ records: '51', bytes: String(bytesAfter(17)) });
  }, 240_000);

  it('keeps the files a commit retires until the grace period has passed, then a later commit deletes them', async () => {
    // Each run's grace period is its own setting; choosing them (instead of sleeping past one) keeps the test exact
    // on a machine of any speed: an hour for the run that must delete nothing, none for the one that must delete.
    const ingestNext = async (i: number, retireGraceMs: number) => {
      await writeFile(join(src, `object-${i}.log.gz`), objectOf(i));
      await runIngest({
        sources: [join(root, 'src')],
        storage: await createLocalWarehouseStorage(data, { retireGraceMs }),
        threads: 1,
      });
    };
    const before = await manifestOf(data);
    await ingestNext(17, 1500); // re-derives the day: retires its 3 derived files
    const first = await manifestOf(data);
    const retiredByFirst = (first.retired ?? []).map((f) => f.path).sort();
    expect(retiredByFirst).toEqual(
      before.files
        .filter((f) => f.table !== 'flows')
        .map((f) => f.path)
        .sort(),
    );
    for (const f of first.retired ?? []) {
      expect(Date.parse(f.deleteAfter) - Date.parse(f.retiredAt)).toBe(1500);
      expect(Math.abs(Date.parse(f.retiredAt) - Date.now())).toBeLessThan(60_000);
    }

    await ingestNext(18, 3_600_000); // within the grace period: nothing is deleted
    for (const path of retiredByFirst) expect(await exists(join(data, path)), path).toBe(true);

    const second = await manifestOf(data);
    await ingestNext(19, 0); // past it: the files the first (and second) commit retired go
    for (const path of retiredByFirst) expect(await exists(join(data, path)), path).toBe(false);
    const third = await manifestOf(data);
    const retiredByThird = (third.retired ?? []).map((f) => f.path);
    // The files this commit retired (second's derived files) are still there and listed.
    const secondDerived = second.files.filter((f) => f.table !== 'flows').map((f) => f.path);
    expect(secondDerived.every((p) => retiredByThird.includes(p))).toBe(true);
    for (const path of secondDerived) expect(await exists(join(data, path)), path).toBe(true);
  }, 120_000);
});
