/**
 * `flowql serve --data s3://lake/wh` as a child process against a real S3-compatible server (s3rver on loopback): the
 * warehouse is written by `flowql ingest --data s3://lake/wh`, the server serves it from its local cache (the manifest,
 * and the files requests read), and a second ingest shows up after the next sync, without a restart.
 *   a.log.gz  2 records (100 B + 200 B)  => records 2, bytes 300
 *   b.log.gz  1 record  (7 B)            => records 3, bytes 307 after the second ingest and sync
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Manifest } from '../../src/store/layout.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';

const BIN = join(import.meta.dirname, '../../bin/flowql.js');
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const rec = (eni: string, bytes: number) =>
  `2 111122223333 ${eni} 10.1.0.1 10.1.0.2 443 50000 6 1 ${bytes} 1700000000 1700000060 ACCEPT OK`;
const object = (lines: string[]) => gzipSync(`${HEADER}\n${lines.join('\n')}\n`);
const SUMMARY = '{ flowSummary(filter: { timeRange: { from: "2023-11-14", to: "2023-11-15" } }) { records bytes } }';

let s3: S3TestServer;
let work = '';
let server: ChildProcess | null = null;

beforeAll(async () => {
  s3 = await startS3Server(['lake']);
  work = await mkdtemp(join(tmpdir(), 'flowql-serve-s3-'));
});

afterAll(async () => {
  server?.kill('SIGKILL');
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function ingest(source: string): Promise<{ code: number; stderr: string }> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      [
        BIN,
        'ingest',
        source,
        '--data',
        's3://lake/wh',
        '--s3-endpoint',
        s3.endpoint,
        '--s3-force-path-style',
        '--threads',
        '1',
      ],
      { env: { ...process.env, ...s3.env } },
      (err, _stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
}

async function summary(url: string): Promise<{ records: string; bytes: string }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: SUMMARY }),
  });
  const body = (await res.json()) as { data?: { flowSummary: { records: string; bytes: string } }; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data.flowSummary;
}

it('serves an S3 warehouse from a synced local cache and picks up a new ingest at the next sync', async () => {
  const src = join(work, 'src/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2023/11/14');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'a.log.gz'), object([rec('eni-a1', 100), rec('eni-a2', 200)]));
  expect(await ingest(join(work, 'src'))).toMatchObject({ code: 0 });

  const cache = join(work, 'cache');
  server = spawn(
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
    ],
    { env: { ...process.env, ...s3.env, FLOWQL_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  server.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((done) => server!.on('exit', (code) => done(code)));
  const url = await new Promise<string>((done, fail) => {
    let buffered = '';
    server!.stdout!.on('data', (c: Buffer) => {
      buffered += c.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        buffered = buffered.slice(nl + 1);
        logs.push(line);
        if (line.msg === 'flowql API listening') done(String(line.url).replace(/\/graphql$/, ''));
      }
    });
    server!.on('exit', () => fail(new Error(`serve exited: ${stderr}`)));
  });
  const firstSync = logs.find((l) => l.msg === 'S3 warehouse manifest synced')!;
  expect([firstSync.warehouse, firstSync.deleted]).toEqual(['s3://lake/wh', 0]);
  expect(firstSync.generation).toBeGreaterThan(0);
  expect(await summary(url)).toEqual({ records: '2', bytes: '300' });

  await writeFile(join(src, 'b.log.gz'), object([rec('eni-b1', 7)]));
  expect(await ingest(join(work, 'src'))).toMatchObject({ code: 0 });
  const end = Date.now() + 30_000;
  let now = await summary(url);
  while (now.records === '2' && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    now = await summary(url);
  }
  expect(now).toEqual({ records: '3', bytes: '307' });
  // Only the manifest is synced: the cache holds the files the questions read (fetched on first use), each listed by
  // the manifest as live or retired (re-derived files of the day stay retired for the grace period), and nothing
  // half-downloaded.
  const m = JSON.parse(await readFile(join(cache, 'committed/_flowql/manifest.json'), 'utf8')) as Manifest;
  const listed = new Set([...m.files, ...(m.retired ?? [])].map((f) => f.path));
  const files = (await readdir(join(cache, 'committed'), { recursive: true }))
    .map((p) => p.split(sep).join('/'))
    .filter((p) => /\.(parquet|part|tmp)$/.test(p));
  expect(files.length).toBeGreaterThan(0);
  expect(files.filter((p) => !listed.has(p))).toEqual([]);
  expect(m.files.filter((f) => f.table === 'flows')).toHaveLength(2);

  server.kill('SIGTERM');
  expect(await exited).toBe(0);
  server = null;
});

it('refuses to start, naming the warehouse, when its bucket does not exist or --demo is asked for an S3 warehouse', async () => {
  const serve = (args: string[]) =>
    new Promise<{ code: number; stderr: string }>((done) =>
      execFile(
        process.execPath,
        [BIN, 'serve', '--s3-endpoint', s3.endpoint, '--port', '0', ...args],
        { env: { ...process.env, ...s3.env } },
        (err, _stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    );
  const [missing, demo] = await Promise.all([
    serve(['--data', 's3://no-such-bucket/wh']),
    serve(['--data', 's3://lake/wh', '--demo']),
  ]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('flowql: cannot open the warehouse s3://no-such-bucket/wh (bucket no-such-bucket)');
  expect(demo.code).toBe(1);
  expect(demo.stderr).toContain(
    'flowql: --demo fills a local warehouse; it cannot be combined with --data s3://lake/wh (ingest into S3 with flowql ingest)',
  );
});
