// Records whose byte counts are each valid (at most 2^53 - 1, the line parser's bound) but whose sum over one hourly
// group passes 2^63 - 1, BIGINT's range: 1,100 records of one exchange in one hour. The ingest must load and derive
// them (a failed derivation fails the commit, and every later run, so the day could never be loaded), and flows_hourly
// must keep every byte; the API answers the exact sum.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
/* eslint-disable @typescript-eslint/no-explicit-any -- a response body */
import { describe, expect, it } from 'vitest';
import { runCompact } from '../../src/ingest/ingest-compact.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import type { Manifest } from '../../src/store/layout.ts';
import { gql, testApi } from '../helpers/graphql.ts';

const DIR = 'AWSLogs/111122223333/vpcflowlogs/eu-west-1/2023/11/14';
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const HUGE = 2 ** 53 - 1;

describe('sums beyond BIGINT', () => {
  it('ingests 1,100 records of 2^53 - 1 bytes in one hourly group, and flows_hourly keeps every byte', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-huge-sums-'));
    const src = join(root, 'src', DIR);
    await mkdir(src, { recursive: true });
    const lines = Array.from(
      { length: 1_100 },
      (_, i) =>
        `2 111122223333 eni-1 10.0.0.1 10.0.0.2 40000 443 6 1 ${HUGE} ${1700000000 + i} ${1700000060 + i} ACCEPT OK`,
    );
    lines.push('2 111122223333 eni-1 10.0.0.1 10.0.0.3 40001 443 6 2 100 1700000000 1700000060 ACCEPT OK');
    await writeFile(
      join(src, '111122223333_vpcflowlogs_eu-west-1_fl-1_20231114T2215Z_h.log.gz'),
      gzipSync(`${[HEADER, ...lines].join('\n')}\n`),
    );
    const data = join(root, 'data');
    const r = await runIngest({
      sources: [join(root, 'src')],
      storage: await createLocalWarehouseStorage(data),
      derive: true,
      threads: 1,
    });
    expect([r.objects.failed, r.records]).toEqual([0, 1_101]);

    const manifest = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
    const hourly = manifest.files.filter((f) => f.table === 'flows_hourly').map((f) => `'${join(data, f.path)}'`);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const [row] = (
      await c.runAndReadAll(
        `SELECT sum(records)::VARCHAR AS records, sum(bytes)::VARCHAR AS bytes, typeof(any_value(bytes)) AS type FROM read_parquet([${hourly.join(', ')}])`,
      )
    ).getRowObjectsJson();
    c.closeSync();
    db.closeSync();
    expect(row).toEqual({ records: '1101', bytes: String(1_100n * BigInt(HUGE) + 100n), type: 'BIGINT' });

    const { yoga, db: api } = await testApi(data);
    const window = 'timeRange: { from: "2023-11-14T22:00:00Z", to: "2023-11-14T23:00:00Z" }';
    const res = await gql<any>(
      yoga,
      `{ all: flowSummary(filter: { ${window} }) { records bytes } other: flowSummary(filter: { ${window}, dstAddr: ["10.0.0.3"] }) { records bytes } }`,
    );
    api.closeSync();
    // The API sums past BIGINT exactly (the BigInt scalar is a string of digits).
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      all: { records: '1101', bytes: String(1_100n * BigInt(HUGE) + 100n) },
      other: { records: '1', bytes: '100' },
    });
  });

  it('flows_daily keeps the hourly rows of a group whose day passes BIGINT, and the day reads exactly from it', async () => {
    // 1,000 records of 2^53 - 1 bytes in each of two hours of one exchange: each hour fits BIGINT, their day does not.
    const root = await mkdtemp(join(tmpdir(), 'flowql-huge-daily-'));
    const src = join(root, 'src', DIR);
    await mkdir(src, { recursive: true });
    const at = (start: number, i: number) =>
      `2 111122223333 eni-1 10.0.0.1 10.0.0.2 40000 443 6 1 ${HUGE} ${start + i} ${start + i + 60} ACCEPT OK`;
    const lines = [
      ...Array.from({ length: 1_000 }, (_, i) => at(1700000000, i)), // 22:13 UTC
      ...Array.from({ length: 1_000 }, (_, i) => at(1700003000, i)), // 23:03 UTC
      '2 111122223333 eni-1 10.0.0.1 10.0.0.3 40001 443 6 2 100 1700000000 1700000060 ACCEPT OK',
      '2 111122223333 eni-1 10.0.0.1 10.0.0.3 40001 443 6 3 50 1700003000 1700003060 ACCEPT OK',
    ];
    await writeFile(
      join(src, '111122223333_vpcflowlogs_eu-west-1_fl-1_20231114T2215Z_h.log.gz'),
      gzipSync(`${[HEADER, ...lines].join('\n')}\n`),
    );
    const data = join(root, 'data');
    const storage = await createLocalWarehouseStorage(data);
    const r = await runIngest({ sources: [join(root, 'src')], storage, threads: 1 });
    expect([r.objects.failed, r.records]).toEqual([0, 2_002]);
    // The partition's flows_daily and edges_daily files.
    expect((await runCompact({ storage, threads: 1 })).dailyWritten).toBe(2);

    const manifest = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
    const [daily] = manifest.files.filter((f) => f.table === 'flows_daily');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const rows = (
      await c.runAndReadAll(
        `SELECT start_time::VARCHAR AS day, dstaddr, records::VARCHAR AS records, bytes::VARCHAR AS bytes, typeof(bytes) AS type
         FROM read_parquet('${join(data, daily!.path)}') ORDER BY dstaddr, bytes`,
      )
    ).getRowObjectsJson();
    c.closeSync();
    db.closeSync();
    // The huge group stays as its two hourly rows (re-timed to the day); the small one is summed into one row.
    const hourBytes = String(1_000n * BigInt(HUGE));
    expect(rows).toEqual([
      { day: '2023-11-14 00:00:00', dstaddr: '10.0.0.2', records: '1000', bytes: hourBytes, type: 'BIGINT' },
      { day: '2023-11-14 00:00:00', dstaddr: '10.0.0.2', records: '1000', bytes: hourBytes, type: 'BIGINT' },
      { day: '2023-11-14 00:00:00', dstaddr: '10.0.0.3', records: '2', bytes: '150', type: 'BIGINT' },
    ]);

    const { yoga, db: api } = await testApi(data);
    const res = await gql<any>(
      yoga,
      '{ flowSummary(filter: { timeRange: { from: "2023-11-14T00:00:00Z", to: "2023-11-15T00:00:00Z" } }) { records bytes } }',
    );
    api.closeSync();
    expect(res.errors).toBeUndefined();
    expect(res.extensions?.cost?.tiers).toEqual(['flows_daily']);
    expect(res.data.flowSummary).toEqual({ records: '2002', bytes: String(2_000n * BigInt(HUGE) + 150n) });
  });
  it('a delivery into an hour already derived sums its records into the committed rows, past BIGINT too, as a from-scratch build', async () => {
    // Hour 22 of one day: 600 records of 2^53 - 1 bytes in one exchange (under BIGINT) and a small one. A later
    // delivery adds 600 more of the big exchange (the hour's group now passes BIGINT: it must become one row per
    // record), more of the small one, and a new exchange. Built in two commits (the second one only adds records to a
    // derived hour: flows_hourly sums them into its committed rows) and in one, flows_hourly is the same row for row.
    const root = await mkdtemp(join(tmpdir(), 'flowql-huge-add-'));
    const big = (i: number) =>
      `2 111122223333 eni-1 10.0.0.1 10.0.0.2 40000 443 6 1 ${HUGE} ${1700000000 + i} ${1700000060 + i} ACCEPT OK`;
    const small = (dst: string, i: number) =>
      `2 111122223333 eni-1 10.0.0.1 ${dst} 40001 443 6 2 ${100 + i} ${1700000000 + i} ${1700000060 + i} ACCEPT OK`;
    const objects = {
      '111122223333_vpcflowlogs_eu-west-1_fl-1_20231114T2210Z_a.log.gz': [
        ...Array.from({ length: 600 }, (_, i) => big(i)),
        small('10.0.0.3', 0),
      ],
      '111122223333_vpcflowlogs_eu-west-1_fl-1_20231114T2215Z_b.log.gz': [
        ...Array.from({ length: 600 }, (_, i) => big(600 + i)),
        small('10.0.0.3', 1),
        small('10.0.0.4', 2),
      ],
    };
    const write = async (dir: string, names: readonly (keyof typeof objects)[]) => {
      await mkdir(join(dir, DIR), { recursive: true });
      for (const name of names)
        await writeFile(join(dir, DIR, name), gzipSync(`${[HEADER, ...objects[name]].join('\n')}\n`));
    };
    const [first, second] = Object.keys(objects) as (keyof typeof objects)[];
    const ingest = async (src: string, data: string) =>
      runIngest({ sources: [src], storage: await createLocalWarehouseStorage(data), threads: 1 });
    // Two commits: the first object, then the second delivered into the derived hour.
    await write(join(root, 'src'), [first!]);
    expect((await ingest(join(root, 'src'), join(root, 'two'))).records).toBe(601);
    await write(join(root, 'src'), [second!]);
    expect((await ingest(join(root, 'src'), join(root, 'two'))).records).toBe(602);
    // One commit of both.
    await write(join(root, 'both'), [first!, second!]);
    expect((await ingest(join(root, 'both'), join(root, 'one'))).records).toBe(1_203);

    const hourly = async (data: string) => {
      const manifest = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
      const files = manifest.files.filter((f) => f.table === 'flows_hourly').map((f) => `'${join(data, f.path)}'`);
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const rows = (
        await c.runAndReadAll(
          `SELECT start_time::VARCHAR AS hour, dstaddr, records::VARCHAR AS records, packets::VARCHAR AS packets,
                  bytes::VARCHAR AS bytes, first_seen::VARCHAR AS first_seen, last_seen::VARCHAR AS last_seen
           FROM read_parquet([${files.join(', ')}], hive_partitioning = false)`,
        )
      ).getRowObjectsJson();
      c.closeSync();
      db.closeSync();
      return rows;
    };
    const scratch = await hourly(join(root, 'one'));
    expect(await hourly(join(root, 'two'))).toEqual(scratch);
    // The big exchange is one row per record (1,200 of them); the small ones are summed.
    expect(scratch.filter((r) => r.dstaddr === '10.0.0.2').map((r) => r.records)).toEqual(Array(1_200).fill('1'));
    expect(scratch.filter((r) => r.dstaddr !== '10.0.0.2').map((r) => [r.dstaddr, r.records, r.bytes])).toEqual([
      ['10.0.0.3', '2', '201'],
      ['10.0.0.4', '1', '102'],
    ]);
  });
});
