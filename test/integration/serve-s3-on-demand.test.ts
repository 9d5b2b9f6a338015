/**
 * S3 replicas that read only what they need: `flowql ingest --data s3://lake/wh` writes six days to a real
 * S3-compatible server (s3rver on loopback), and two `flowql serve --data s3://lake/wh` child processes serve it, each
 * with its own cache folder; replica `small`'s cache is bounded to 2.5 of the largest day's files. Counted from the
 * cache folders and /metrics (flowql_s3_cache_downloads):
 *   - a question over one day fetches only that day's files;
 *   - questions over every day, one day each, leave the bounded cache under its bound after every answer, and a
 *     question over all six days (more than the bound: its files are held while it runs) answers every record;
 *   - five concurrent requests over one day download each of its files once;
 *   - both replicas answer identically;
 *   - a seventh day ingested later is answered by both replicas after their next manifest sync.
 * Day d (10..15 Nov 2023) holds d - 9 records of 100 B each at 12:00 UTC, on eni-d.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Manifest } from '../../src/store/layout.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';

const BIN = join(import.meta.dirname, '../../bin/flowql.js');
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const DAYS = [10, 11, 12, 13, 14, 15];
const dayOf = (d: number) => `2023-11-${d}`;

let s3: S3TestServer;
let work = '';
const children: ChildProcess[] = [];
interface Replica {
  readonly url: string;
  readonly cache: string;
}
let small: Replica;
let large: Replica;
let boundBytes = 0;

async function writeDay(d: number): Promise<void> {
  const dir = join(work, `src/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2023/11/${d}`);
  await mkdir(dir, { recursive: true });
  const start = Date.UTC(2023, 10, d, 12) / 1000;
  const lines = Array.from(
    { length: d - 9 },
    (_, i) =>
      `2 111122223333 eni-${d} 10.1.0.${i + 1} 10.1.0.200 443 5000${i} 6 1 100 ${start} ${start + 60} ACCEPT OK`,
  );
  await writeFile(join(dir, `day-${d}.log.gz`), gzipSync(`${HEADER}\n${lines.join('\n')}\n`));
}

function ingest(): Promise<{ code: number; stderr: string }> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      [BIN, 'ingest', join(work, 'src'), '--data', 's3://lake/wh', '--s3-endpoint', s3.endpoint],
      { env: { ...process.env, ...s3.env, FLOWQL_LOG_LEVEL: 'silent' } },
      (err, _stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
}

async function s3Manifest(): Promise<Manifest> {
  const out = await s3.client.send(new GetObjectCommand({ Bucket: 'lake', Key: 'wh/_flowql/manifest.json' }));
  return JSON.parse(await out.Body!.transformToString('utf8')) as Manifest;
}

async function startReplica(name: string, extra: string[]): Promise<Replica> {
  const cache = join(work, name);
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--data',
      's3://lake/wh',
      '--s3-endpoint',
      s3.endpoint,
      '--s3-sync-seconds',
      '1',
      '--cache-dir',
      cache,
      '--port',
      '0',
      '--duckdb-threads',
      '1',
      '--result-cache-mb',
      '0',
      ...extra,
    ],
    { env: { ...process.env, ...s3.env, FLOWQL_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((done, fail) => {
    let buffered = '';
    child.stdout!.on('data', (c: Buffer) => {
      buffered += c.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        buffered = buffered.slice(nl + 1);
        if (line.msg === 'flowql API listening') done(String(line.url).replace(/\/graphql$/, ''));
      }
    });
    child.on('exit', () => fail(new Error(`serve exited: ${stderr}`)));
  });
  return { url, cache: join(cache, 'committed') };
}

const window = (from: number, to: number) => `{ timeRange: { from: "${dayOf(from)}", to: "${dayOf(to)}" } }`;
/** A summary (flows_hourly) and a page of records (flows) over days [from, to). */
const question = (from: number, to: number) =>
  `{ s: flowSummary(filter: ${window(from, to)}) { records bytes } ` +
  `f: flows(filter: ${window(from, to)}, first: 100) { nodes { interfaceId srcAddr bytes } } }`;

async function ask(r: Replica, query: string): Promise<unknown> {
  const res = await fetch(`${r.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data?: unknown; errors?: unknown };
  if (!body.data || body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function metric(r: Replica, name: string): Promise<number> {
  const text = await (await fetch(`${r.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
}
const downloads = (r: Replica) => metric(r, 'flowql_s3_cache_downloads');

/** Parquet files in a replica's cache folder (paths relative to the warehouse root), temp names included. */
async function cached(r: Replica): Promise<{ path: string; bytes: number }[]> {
  const all = (await readdir(r.cache, { recursive: true })).filter((p) => /\.(parquet|part|tmp)$/.test(p));
  // A file evicted (or a temp file renamed) between the listing and its stat is no longer there.
  const sizes = await Promise.all(
    all.map((p) =>
      stat(join(r.cache, p)).then(
        (s) => s.size,
        () => null,
      ),
    ),
  );
  return all.flatMap((p, i) => (sizes[i] === null ? [] : [{ path: p.split(sep).join('/'), bytes: sizes[i]! }]));
}

const sum = (files: { bytes: number }[]) => files.reduce((n, f) => n + f.bytes, 0);

/** Polls `read` until `ok` holds (deletions and syncs happen just after an answer), or gives up after `ms`. */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}

beforeAll(async () => {
  s3 = await startS3Server(['lake']);
  work = await mkdtemp(join(tmpdir(), 'flowql-serve-s3-on-demand-'));
  for (const d of DAYS) await writeDay(d);
  expect(await ingest()).toMatchObject({ code: 0 });
  const m = await s3Manifest();
  const perDay = DAYS.map((d) => sum(m.files.filter((f) => f.date === dayOf(d))));
  boundBytes = Math.round(Math.max(...perDay) * 2.5);
  expect(boundBytes).toBeLessThan(sum([...m.files]) / 2); // the bound holds well under half the warehouse
  // --cache-max-gb takes fractions: the bound in bytes is round(gb * 2^30).
  const gb = (boundBytes / 2 ** 30).toPrecision(12);
  boundBytes = Math.round(Number(gb) * 2 ** 30);
  [small, large] = await Promise.all([startReplica('small', ['--cache-max-gb', gb]), startReplica('large', [])]);
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

it('fetches only the files of the partitions a question prunes to', async () => {
  expect(await cached(large)).toEqual([]); // only the manifest was synced
  expect(await ask(large, question(12, 13))).toMatchObject({ s: { records: '3', bytes: '300' } });
  const files = await cached(large);
  expect(files.length).toBeGreaterThan(0);
  expect(files.filter((f) => !f.path.includes(`/date=${dayOf(12)}/`))).toEqual([]);
  expect(await downloads(large)).toBe(files.length);
});

it('downloads a file once for concurrent requests that need it', async () => {
  const before = await downloads(large);
  const day = dayOf(14);
  expect((await cached(large)).filter((f) => f.path.includes(`/date=${day}/`))).toEqual([]);
  // Five different questions over day 14 at once (different filters: no answer is shared between them).
  const answers = await Promise.all(
    [1, 2, 3, 4, 5].map((i) =>
      ask(
        large,
        `{ flowSummary(filter: { timeRange: { from: "${day}", to: "2023-11-15" }, srcAddr: ["10.1.0.${i}"] }) { records } ` +
          `flows(filter: { timeRange: { from: "${day}", to: "2023-11-15" }, srcAddr: ["10.1.0.${i}"] }, first: 5) { nodes { bytes } } }`,
      ),
    ),
  );
  expect(answers.map((a) => (a as { flowSummary: { records: string } }).flowSummary.records)).toEqual([
    '1',
    '1',
    '1',
    '1',
    '1',
  ]);
  const ofDay = (await cached(large)).filter((f) => f.path.includes(`/date=${day}/`));
  expect(ofDay.length).toBeGreaterThan(0);
  expect((await downloads(large)) - before).toBe(ofDay.length);
});

it('stays under its bound across a scan of every day, and answers a question larger than the bound', async () => {
  for (const d of DAYS) {
    expect(await ask(small, question(d, d + 1))).toMatchObject({
      s: { records: String(d - 9), bytes: String((d - 9) * 100) },
    });
    const files = await eventually(
      () => cached(small),
      (f) => sum(f) <= boundBytes,
    );
    expect(sum(files)).toBeLessThanOrEqual(boundBytes);
    expect(files.filter((f) => !f.path.endsWith('.parquet'))).toEqual([]); // nothing half-downloaded
  }
  expect(await metric(small, 'flowql_s3_cache_evictions')).toBeGreaterThan(0);
  expect(await metric(small, 'flowql_s3_cache_max_bytes')).toBe(boundBytes);
  // Every file of the six days is read at once: held while the request runs (past the bound), evicted after.
  const all = (await ask(small, question(10, 16))) as { s: unknown; f: { nodes: unknown[] } };
  expect(all.s).toEqual({ records: '21', bytes: '2100' });
  expect(all.f.nodes).toHaveLength(21);
  expect(
    sum(
      await eventually(
        () => cached(small),
        (f) => sum(f) <= boundBytes,
      ),
    ),
  ).toBeLessThanOrEqual(boundBytes);
});

it('gives the same answers on two replicas of one warehouse', async () => {
  const questions = [
    ...DAYS.map((d) => question(d, d + 1)),
    question(10, 16),
    `{ flowTopN(filter: ${window(10, 16)}, by: INTERFACE, limit: 3) { rows { key { interfaceId } bytes records } } }`,
  ];
  for (const q of questions) {
    const [a, b] = await Promise.all([ask(small, q), ask(large, q)]);
    expect(a).toEqual(b);
  }
});

it('answers a new ingest after the next manifest sync, on every replica', async () => {
  await writeDay(16);
  expect(await ingest()).toMatchObject({ code: 0 });
  for (const r of [small, large]) {
    const answer = await eventually(
      () => ask(r, question(16, 17)),
      (a) => (a as { s: { records: string } }).s.records !== '0',
    );
    expect(answer).toMatchObject({ s: { records: '7', bytes: '700' } });
  }
  const [a, b] = await Promise.all([ask(small, question(10, 17)), ask(large, question(10, 17))]);
  expect(a).toEqual(b);
  expect(a).toMatchObject({ s: { records: '28', bytes: '2800' } });
});

it('fetches a reference snapshot on demand too: network names and the networks filter answer on a replica', async () => {
  const file = join(work, 'networks.yaml');
  await writeFile(file, 'networks:\n  - cidr: 10.1.0.0/24\n    name: lab\n    attributes: { kind: lab }\n');
  const imported = await new Promise<number>((done) =>
    execFile(
      process.execPath,
      [BIN, 'networks', 'import', file, '--data', 's3://lake/wh', '--s3-endpoint', s3.endpoint],
      { env: { ...process.env, ...s3.env, FLOWQL_LOG_LEVEL: 'silent' } },
      (err) => done(err ? 1 : 0),
    ),
  );
  expect(imported).toBe(0);
  const q = `{ s: flowSummary(filter: { timeRange: { from: "${dayOf(12)}", to: "${dayOf(13)}" }, networks: ["lab"] }) { records }
    f: flows(filter: { timeRange: { from: "${dayOf(12)}", to: "${dayOf(13)}" } }, first: 1) { nodes { srcNetwork { name } } } }`;
  const answer = await eventually(
    () => ask(large, q),
    (a) => (a as { s?: { records: string } }).s?.records === '3',
  );
  expect(answer).toMatchObject({ s: { records: '3' }, f: { nodes: [{ srcNetwork: { name: 'lab' } }] } });
});
