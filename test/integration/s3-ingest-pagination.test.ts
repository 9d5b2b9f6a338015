/**
 * `flowql ingest s3://...` over a prefix of 1,003 objects: two ListObjectsV2 pages, every object loaded once.
 * Each object holds one record on 2024-01-02 (epoch 1704153600) for account 444444444444 in us-west-2, so the
 * warehouse must end with exactly one partition of 1,003 rows from 1,003 distinct sources.
 *
 * Slow (about 100 s here): the ingester spends ~65 ms per object even on local files (measured: 1,003 one-line local
 * files in 64.5 s), and s3rver adds ~30 ms a GET. Kept in its own file so it runs beside the rest of the suite.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Manifest } from '../../src/store/layout.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';

const V2_HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
let s3: S3TestServer;
let work: string;

beforeAll(async () => {
  s3 = await startS3Server(['src']);
  work = await mkdtemp(join(tmpdir(), 'flowql-s3-pages-'));
});
afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

it('loads every object of a prefix that takes two ListObjectsV2 pages', { timeout: 400_000 }, async () => {
  const n = 1003;
  const key = (i: number) =>
    `many/AWSLogs/444444444444/vpcflowlogs/us-west-2/2024/01/02/444444444444_vpcflowlogs_us-west-2_fl-0d4_20240102T00${String(i % 60).padStart(2, '0')}Z_${String(i).padStart(8, '0')}.log.gz`;
  for (let i = 0; i < n; i += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, (_, j) =>
        s3.put(
          'src',
          key(i + j),
          gzipSync(
            `${V2_HEADER}\n2 444444444444 eni-0d 10.4.0.1 10.4.0.2 ${1024 + i + j} 443 6 1 60 1704153600 1704153660 ACCEPT OK\n`,
          ),
        ),
      ),
    );
  }
  const data = join(work, 'wh');
  const code = await new Promise<number>((resolve) =>
    execFile(
      process.execPath,
      [
        'bin/flowql.js',
        'ingest',
        's3://src/many',
        '--data',
        data,
        '--s3-endpoint',
        s3.endpoint,
        '--s3-force-path-style',
      ],
      { env: { ...process.env, ...s3.env } },
      (err) => resolve(err ? ((err as { code?: number }).code ?? 1) : 0),
    ),
  );
  expect(code).toBe(0);
  const manifest = JSON.parse(await readFile(join(data, '_flowql', 'manifest.json'), 'utf8')) as Manifest;
  const files = manifest.files.filter((f) => f.table === 'flows').map((f) => `'${join(data, f.path)}'`);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const rows = (
    await c.runAndReadAll(
      `SELECT account_id, region, date, count(*)::INTEGER, count(DISTINCT source_id)::INTEGER, count(DISTINCT srcport)::INTEGER
       FROM read_parquet([${files.join(', ')}], hive_partitioning = true,
                         hive_types = {'account_id': VARCHAR, 'region': VARCHAR, 'date': VARCHAR})
       GROUP BY ALL`,
    )
  ).getRows();
  c.closeSync();
  db.closeSync();
  expect(rows).toEqual([['444444444444', 'us-west-2', '2024-01-02', n, n, n]]);
  expect(manifest.ingest.objects).toBe(n);
});
