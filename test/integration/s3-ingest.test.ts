/**
 * `flowql ingest s3://...` end to end, through the real CLI, against a real S3-compatible server (s3rver on loopback),
 * into a local warehouse and into a warehouse on S3 (`--data s3://...`). Counts are read back with DuckDB over the
 * manifest's files, the way the API reads them.
 *
 * The dataset (hand-auditable; epoch 1704153600 = 2024-01-02T00:00:00Z, 1704240000 = 2024-01-03, 1704412800 =
 * 2024-01-05):
 *   A  default layout, gzip text, v2 format, account 111111111111 us-east-1: 3 records on 2024-01-02, 1 on 01-03
 *   B  Hive layout, plain text, custom format without account-id/region (taken from the key), account 222222222222
 *      eu-west-1: 3 records on 2024-01-02 and 1 bad line (srcport `x80`)
 *   C  default layout, AWS-shaped Parquet, account 333333333333 ap-southeast-2: 2 records on 2024-01-05
 *   D  a `.log.gz` that is not gzip nor a flow log: reported and skipped
 * Expected partitions: 111/us-east-1/2024-01-02 = 3, 111/us-east-1/2024-01-03 = 1, 222/eu-west-1/2024-01-02 = 3,
 * 333/ap-southeast-2/2024-01-05 = 2 (9 records), 1 reject.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3WarehouseStorage } from '../../src/ingest/s3-warehouse-storage.ts';
import type { Manifest } from '../../src/store/layout.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';

const V2_HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const KEY_A =
  'logs/AWSLogs/111111111111/vpcflowlogs/us-east-1/2024/01/02/111111111111_vpcflowlogs_us-east-1_fl-0a1_20240102T0005Z_0000000a.log.gz';
const KEY_B =
  'logs/AWSLogs/aws-account-id=222222222222/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=01/day=02/222222222222_vpcflowlogs_eu-west-1_fl-0b2_20240102T0005Z_0000000b.log';
const KEY_C =
  'logs/AWSLogs/333333333333/vpcflowlogs/ap-southeast-2/2024/01/05/333333333333_vpcflowlogs_ap-southeast-2_fl-0c3_20240105T0005Z_0000000c.log.parquet';
const KEY_D =
  'logs/AWSLogs/111111111111/vpcflowlogs/us-east-1/2024/01/02/111111111111_vpcflowlogs_us-east-1_fl-0a1_20240102T0010Z_0000000d.log.gz';

const A_LINES = [
  V2_HEADER,
  '2 111111111111 eni-0a 10.0.0.1 10.0.0.2 443 50000 6 10 1000 1704153600 1704153660 ACCEPT OK',
  '2 111111111111 eni-0a 10.0.0.2 10.0.0.1 50000 443 6 8 800 1704153600 1704153660 ACCEPT OK',
  '2 111111111111 eni-0a 10.0.0.3 10.0.0.1 2222 22 6 1 40 1704239999 1704240010 REJECT OK',
  '2 111111111111 eni-0a 10.0.0.3 10.0.0.1 2223 22 6 1 40 1704240000 1704240060 REJECT OK',
];
const B_LINES = [
  'interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  'eni-0b 10.1.0.1 10.1.0.2 1000 80 6 1 100 1704153700 1704153760 ACCEPT OK',
  'eni-0b 10.1.0.1 10.1.0.2 1001 80 6 2 200 1704153700 1704153760 ACCEPT OK',
  'eni-0b 10.1.0.1 10.1.0.2 x80 80 6 3 300 1704153700 1704153760 ACCEPT OK',
  'eni-0b 10.1.0.2 10.1.0.1 80 1000 6 4 400 1704153700 1704153760 ACCEPT OK',
];
/** C as AWS writes Parquet: AWS's column names, INT32 ports/protocol, INT64 counters and epoch seconds. */
const C_PARQUET_SQL = `COPY (SELECT * FROM (VALUES
    (2, '333333333333', 'eni-0c', '10.2.0.1', '10.2.0.2', 5000, 443, 6, 5::BIGINT, 500::BIGINT, 1704412800::BIGINT, 1704412860::BIGINT, 'ACCEPT', 'OK', 'ap-southeast-2'),
    (2, '333333333333', 'eni-0c', '10.2.0.2', '10.2.0.1', 443, 5000, 6, 6::BIGINT, 600::BIGINT, 1704412800::BIGINT, 1704412860::BIGINT, 'ACCEPT', 'OK', 'ap-southeast-2')
  ) t(version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, "end", action, log_status, region))
  TO '$PATH' (FORMAT parquet, COMPRESSION gzip)`;
const EXPECTED = [
  ['111111111111', 'us-east-1', '2024-01-02', 3],
  ['111111111111', 'us-east-1', '2024-01-03', 1],
  ['222222222222', 'eu-west-1', '2024-01-02', 3],
  ['333333333333', 'ap-southeast-2', '2024-01-05', 2],
];

let s3: S3TestServer;
let work: string;

beforeAll(async () => {
  s3 = await startS3Server(['src', 'lake']);
  work = await mkdtemp(join(tmpdir(), 'flowql-s3-ingest-'));
  await s3.put('src', KEY_A, gzipSync(`${A_LINES.join('\n')}\n`));
  await s3.put('src', KEY_B, `${B_LINES.join('\n')}\n`);
  const pqPath = join(work, 'c.log.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(C_PARQUET_SQL.replace('$PATH', pqPath));
  conn.closeSync();
  db.closeSync();
  await s3.put('src', KEY_C, await readFile(pqPath));
  await s3.put('src', KEY_D, Buffer.from('this is not a flow log, nor gzip\n\x00\x01\x02'));
});
afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function flowql(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/flowql.js', ...args],
      { env: { ...process.env, ...s3.env }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const ingest = (sources: readonly string[], data: string) =>
  flowql([
    'ingest',
    ...sources,
    '--data',
    data,
    '--s3-endpoint',
    s3.endpoint,
    '--s3-force-path-style',
    '--max-reject-ratio',
    '1',
  ]);

/** Rows per (account, region, date) over the manifest's flows files, plus the distinct sources and flow ids. */
async function countsOver(root: string, manifest: Manifest) {
  const files = manifest.files.filter((f) => f.table === 'flows').map((f) => join(root, ...f.path.split('/')));
  if (files.length === 0) return { partitions: [], rows: 0, flowIds: 0, sources: 0 };
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const list = files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ');
  const from = `read_parquet([${list}], hive_partitioning = true, hive_types = {'account_id': VARCHAR, 'region': VARCHAR, 'date': VARCHAR})`;
  const partitions = (
    await c.runAndReadAll(`SELECT account_id, region, date, count(*)::INTEGER FROM ${from} GROUP BY ALL ORDER BY ALL`)
  ).getRows();
  const [totals] = (
    await c.runAndReadAll(
      `SELECT count(*)::INTEGER, count(DISTINCT flow_id)::INTEGER, count(DISTINCT source_id)::INTEGER FROM ${from}`,
    )
  ).getRows();
  c.closeSync();
  db.closeSync();
  return { partitions, rows: totals![0], flowIds: totals![1], sources: totals![2] };
}

async function localCounts(dir: string) {
  const manifest = JSON.parse(await readFile(join(dir, '_flowql', 'manifest.json'), 'utf8')) as Manifest;
  return { manifest, ...(await countsOver(dir, manifest)) };
}

describe('flowql ingest s3://... into a local warehouse', () => {
  let data: string;
  beforeAll(() => {
    data = join(work, 'local-wh');
  });

  it('loads every record once into its partition, reports the reject and the unreadable object', async () => {
    const run = await ingest(['s3://src/logs/'], data);
    expect(run.stderr + run.stdout).toContain(KEY_D);
    const got = await localCounts(data);
    expect(got.partitions).toEqual(EXPECTED);
    expect([got.rows, got.flowIds, got.sources]).toEqual([9, 9, 3]);
    expect(got.manifest.ingest.records).toBe(9);
    expect(got.manifest.ingest.rejects).toBe(1);
  });

  it('loads nothing twice when run again', async () => {
    const before = await localCounts(data);
    await ingest(['s3://src/logs/'], data);
    const after = await localCounts(data);
    expect(after.partitions).toEqual(EXPECTED);
    expect(after.manifest.files.map((f) => f.path).sort()).toEqual(before.manifest.files.map((f) => f.path).sort());
  });

  it('replaces the rows of a changed object (new ETag) instead of adding to them', async () => {
    // A now holds its first two records only: 2024-01-02 drops from 3 to 2 and 2024-01-03 disappears.
    await s3.put('src', KEY_A, gzipSync(`${A_LINES.slice(0, 3).join('\n')}\n`));
    await ingest(['s3://src/logs/'], data);
    const got = await localCounts(data);
    expect(got.partitions).toEqual([
      ['111111111111', 'us-east-1', '2024-01-02', 2],
      ['222222222222', 'eu-west-1', '2024-01-02', 3],
      ['333333333333', 'ap-southeast-2', '2024-01-05', 2],
    ]);
    expect(got.rows).toBe(7);
    await s3.put('src', KEY_A, gzipSync(`${A_LINES.join('\n')}\n`)); // restore for the next tests
  });
});

describe('flowql ingest s3://... --data s3://lake/wh', () => {
  async function s3Counts() {
    const wh = await createS3WarehouseStorage('s3://lake/wh', { client: s3.client });
    try {
      const manifest = await wh.readManifest();
      if (manifest === null) throw new Error('no manifest on S3');
      const flows = manifest.files.filter((f) => f.table === 'flows');
      if (flows.length === 0) throw new Error('the manifest on S3 lists no flows files');
      // readableFile keeps the relative path under one local folder, so Hive partitions still read from the path.
      const locals = await Promise.all(flows.map((f) => wh.readableFile(f.path)));
      const root = locals[0]!.slice(0, locals[0]!.length - flows[0]!.path.length - 1);
      const onS3 = (await wh.listFiles('flows/')).map((f) => f.path).sort();
      return { manifest, onS3, ...(await countsOver(root, manifest)) };
    } finally {
      await wh.close();
    }
  }

  it('writes the same partitions to S3, and the files on S3 are exactly the manifest files', async () => {
    const run = await ingest(['s3://src/logs'], 's3://lake/wh');
    expect(run.stderr + run.stdout).toContain(KEY_D);
    const got = await s3Counts();
    expect(got.partitions).toEqual(EXPECTED);
    expect([got.rows, got.flowIds, got.sources]).toEqual([9, 9, 3]);
    expect(got.onS3).toEqual(
      got.manifest.files
        .filter((f) => f.table === 'flows')
        .map((f) => f.path)
        .sort(),
    );
    expect(
      got.onS3.every((p) =>
        /^flows\/account_id=\d{12}\/region=[a-z0-9-]+\/date=\d{4}-\d{2}-\d{2}\/[^/]+\.parquet$/.test(p),
      ),
    ).toBe(true);
  });

  it('keeps its ledger on S3: a second run from a fresh machine loads nothing twice', async () => {
    await ingest(['s3://src/logs'], 's3://lake/wh');
    const got = await s3Counts();
    expect(got.partitions).toEqual(EXPECTED);
  });

  it('replaces the rows of a changed object on S3 too, keeps the retired files for the grace period, then deletes them', async () => {
    await s3.put('src', KEY_A, gzipSync(`${[A_LINES[0], A_LINES[4]].join('\n')}\n`)); // only the 2024-01-03 record
    await ingest(['s3://src/logs'], 's3://lake/wh');
    const got = await s3Counts();
    expect(got.partitions).toEqual([
      ['111111111111', 'us-east-1', '2024-01-03', 1],
      ['222222222222', 'eu-west-1', '2024-01-02', 3],
      ['333333333333', 'ap-southeast-2', '2024-01-05', 2],
    ]);
    const live = got.manifest.files
      .filter((f) => f.table === 'flows')
      .map((f) => f.path)
      .sort();
    const retired = (got.manifest.retired ?? []).map((f) => f.path).filter((p) => p.startsWith('flows/'));
    expect(retired.length).toBeGreaterThan(0);
    expect(retired.every((p) => p.startsWith('flows/account_id=111111111111/') && !live.includes(p))).toBe(true);
    expect(got.onS3).toEqual([...live, ...retired].sort());
    // A later run past the grace period (0 here) deletes them.
    await flowql([
      'ingest',
      's3://src/logs',
      '--data',
      's3://lake/wh',
      '--s3-endpoint',
      s3.endpoint,
      '--s3-force-path-style',
      '--retire-grace',
      '0',
    ]);
    expect((await s3Counts()).onS3).toEqual(live);
  });
});
