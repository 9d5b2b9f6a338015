// flowql ingest over local folders, end to end in-process: exact counts read back by DuckDB over the manifest's files.
// Fixture: test/fixtures/ingest/mixed.log.gz (7 records, 3 rejects; see mixed.expected.md).
import { copyFile, mkdir, mkdtemp, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { HIVE_TYPES_SQL } from '../../src/domain/flow-schema.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import type { Manifest } from '../../src/store/layout.ts';

const MIXED = join(import.meta.dirname, '../fixtures/ingest/mixed.log.gz');
const DIR = 'AWSLogs/111122223333/vpcflowlogs/eu-west-1/2023/11/14';
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

function textObject(lines: string[]): Buffer {
  return gzipSync(`${HEADER}\n${lines.join('\n')}\n`);
}
const rec = (eni: string, bytes: number, start = 1700000000) =>
  `2 111122223333 ${eni} 10.1.0.1 10.1.0.2 443 50000 6 1 ${bytes} ${start} ${start + 60} ACCEPT OK`;

async function setup() {
  const root = await mkdtemp(join(tmpdir(), 'flowql-ingest-'));
  const src = join(root, 'src', DIR);
  await mkdir(src, { recursive: true });
  const data = join(root, 'data');
  return { root, src, data };
}

async function ingest(sources: string[], data: string, batchRecords?: number, threads = 2) {
  // Flows only: the derived tables have their own tests (analytics-ingest-derive, flows-hourly).
  return runIngest({ sources, storage: await createLocalWarehouseStorage(data), batchRecords, threads, derive: false });
}

/** What a reader sees: the manifest's files read by DuckDB with hive partitions. */
async function visible(data: string, select: string, tail = ''): Promise<Record<string, unknown>[]> {
  const manifest = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
  if (manifest.files.length === 0) return [];
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const files = manifest.files
    .filter((f) => f.path.startsWith('flows/'))
    .map((f) => `'${join(data, f.path)}'`)
    .join(', ');
  const r = await c.runAndReadAll(
    `SELECT ${select} FROM read_parquet([${files}], hive_partitioning = true, hive_types = ${HIVE_TYPES_SQL}) ${tail}`,
  );
  const rows = r.getRowObjectsJson() as Record<string, unknown>[];
  c.closeSync();
  db.closeSync();
  return rows;
}

async function ledger(data: string, query: string) {
  const db = await DuckDBInstance.create(join(data, '_flowql/ledger.duckdb'), { access_mode: 'READ_ONLY' });
  const c = await db.connect();
  const rows = (await c.runAndReadAll(query)).getRowObjectsJson();
  c.closeSync();
  db.closeSync();
  return rows;
}

describe('flowql ingest (local)', () => {
  it('loads each object once, picks up new ones, replaces changed ones, retries unreadable ones', async () => {
    const { src, data } = await setup();
    await copyFile(MIXED, join(src, 'a.log.gz'));
    await writeFile(join(src, 'b.log.gz'), textObject([rec('eni-b1', 100), rec('eni-b2', 200)]));
    await writeFile(join(src, 'broken.log.gz'), gzipSync('x').subarray(0, 12)); // truncated gzip

    const first = await ingest([join(src, '..')], data);
    expect(first.objects).toEqual({ listed: 3, loaded: 2, skipped: 0, replaced: 0, notFlowLogs: 0, failed: 1 });
    expect([first.records, first.rejects, first.partitionsTouched]).toEqual([9, 3, 4]);
    expect(first.failures[0]!.uri).toBe(join(src, 'broken.log.gz'));
    expect(await visible(data, 'count(*)::INTEGER AS n, count(DISTINCT flow_id)::INTEGER AS ids')).toEqual([
      { n: 9, ids: 9 },
    ]);
    const parts = await visible(
      data,
      'account_id, CAST(date AS VARCHAR) AS d, count(*)::INTEGER AS n',
      'GROUP BY ALL ORDER BY ALL',
    );
    expect(parts).toEqual([
      { account_id: '111122223333', d: '2023-11-14', n: 3 },
      { account_id: '123456789010', d: '2023-11-14', n: 3 },
      { account_id: '123456789010', d: '2023-11-15', n: 2 },
      { account_id: '999999999999', d: '2023-11-14', n: 1 },
    ]);
    expect(await ledger(data, 'SELECT line::INTEGER AS line, field, reason FROM rejects ORDER BY line')).toEqual([
      { line: 6, field: null, reason: 'expected 14 fields, found 6' },
      { line: 7, field: 'srcport', reason: "srcport: expected an integer 0-65535, found '70000'" },
      { line: 11, field: 'packets', reason: expect.stringMatching(/^packets: .*'-3'/) },
    ]);

    // Same command again: nothing loaded twice; the unreadable object is tried again.
    const again = await ingest([join(src, '..')], data);
    expect(again.objects).toEqual({ listed: 3, loaded: 0, skipped: 2, replaced: 0, notFlowLogs: 0, failed: 1 });
    expect(await visible(data, 'count(*)::INTEGER AS n')).toEqual([{ n: 9 }]);

    // A new object, a changed object (b: 2 records -> 3) and the broken one fixed.
    await writeFile(join(src, 'c.log.gz'), textObject([rec('eni-c1', 1)]));
    await writeFile(join(src, 'b.log.gz'), textObject([rec('eni-b1', 101), rec('eni-b2', 201), rec('eni-b3', 301)]));
    await utimes(join(src, 'b.log.gz'), new Date(), new Date(Date.now() + 5000));
    await writeFile(join(src, 'broken.log.gz'), textObject([rec('eni-x', 7, 1700090000)]));
    const third = await ingest([join(src, '..')], data);
    expect(third.objects).toEqual({ listed: 3 + 1, loaded: 3, skipped: 1, replaced: 1, notFlowLogs: 0, failed: 0 });
    const b = await visible(
      data,
      'interface_id, bytes::INTEGER AS bytes',
      "WHERE interface_id IN ('eni-b1', 'eni-b2', 'eni-b3') ORDER BY 1",
    );
    expect(b).toEqual([
      { interface_id: 'eni-b1', bytes: 101 },
      { interface_id: 'eni-b2', bytes: 201 },
      { interface_id: 'eni-b3', bytes: 301 },
    ]);
    expect(await visible(data, 'count(*)::INTEGER AS n, count(DISTINCT flow_id)::INTEGER AS ids')).toEqual([
      { n: 9 - 2 + 3 + 1 + 1, ids: 12 },
    ]);
    const manifest = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
    expect(manifest.ingest).toMatchObject({ objects: 4, records: 12, rejects: 3 });
    expect(manifest.files.reduce((a, f) => a + f.rows, 0)).toBe(12);
    expect(await ledger(data, 'SELECT state, count(*)::INTEGER AS n FROM sources GROUP BY 1 ORDER BY 1')).toEqual([
      { state: 'loaded', n: 4 },
      { state: 'superseded', n: 1 },
    ]);
  });

  it('follows symbolic links: a linked object and a linked folder load, a loop is walked once, dangling and looping links fail by name', async () => {
    const { root, src, data } = await setup();
    const elsewhere = join(root, 'elsewhere');
    await mkdir(join(elsewhere, 'day'), { recursive: true });
    await writeFile(join(elsewhere, 'linked.log.gz'), textObject([rec('eni-l1', 10), rec('eni-l2', 20)]));
    await writeFile(join(elsewhere, 'day', 'in-linked-folder.log.gz'), textObject([rec('eni-f1', 30)]));
    await writeFile(join(src, 'plain.log.gz'), textObject([rec('eni-p1', 40)]));
    await symlink(join(elsewhere, 'linked.log.gz'), join(src, 'a-link.log.gz'));
    await symlink(join(elsewhere, 'day'), join(src, 'b-folder'));
    await symlink(join(src, '..'), join(src, 'c-loop')); // an ancestor: walking it again would never end
    await symlink(join(elsewhere, 'gone.log.gz'), join(src, 'd-dangling.log.gz'));
    await symlink(join(src, 'e-self.log.gz'), join(src, 'e-self.log.gz')); // a loop of links: ELOOP

    const run = await ingest([src], data);
    expect(run.objects).toEqual({ listed: 5, loaded: 3, skipped: 0, replaced: 0, notFlowLogs: 0, failed: 2 });
    expect(run.failures.map((f) => f.uri).sort()).toEqual([join(src, 'd-dangling.log.gz'), join(src, 'e-self.log.gz')]);
    expect(run.failures.map((f) => f.error).join(' ')).toMatch(/ENOENT.*ELOOP|ELOOP.*ENOENT/);
    expect(
      await visible(data, 'interface_id, bytes::INTEGER AS bytes, source_line::INTEGER AS line', 'ORDER BY 1'),
    ).toEqual([
      { interface_id: 'eni-f1', bytes: 30, line: 2 },
      { interface_id: 'eni-l1', bytes: 10, line: 2 },
      { interface_id: 'eni-l2', bytes: 20, line: 3 },
      { interface_id: 'eni-p1', bytes: 40, line: 2 },
    ]);
    // Keyed by the link's path: the same links again load nothing twice.
    const again = await ingest([src], data);
    expect(again.objects).toMatchObject({ listed: 5, loaded: 0, skipped: 3, failed: 2 });
  });

  it('orders each file by hour of start_time, then source line, and commits every batch of records', async () => {
    const { src, data } = await setup();
    // Two objects, each with starts in descending order; batchRecords 1 forces a commit per object. Records 1 and 2
    // share an hour (22:00 UTC) and keep their line order; record 5 (21:00) comes first (parquet-writer.ts FILE_ORDER).
    await writeFile(
      join(src, 'p.log.gz'),
      textObject([rec('eni-1', 1, 1700000300), rec('eni-1', 2, 1700000100), rec('eni-1', 5, 1699996000)]),
    );
    await writeFile(join(src, 'q.log.gz'), textObject([rec('eni-2', 3, 1700000200), rec('eni-2', 4, 1700000000)]));
    const s = await ingest([src], data, 1, 1);
    expect([s.records, s.filesWritten]).toEqual([5, 2]);
    const manifest = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const orders = [];
    for (const f of manifest.files) {
      const r = await c.runAndReadAll(
        `SELECT list(bytes::INTEGER ORDER BY file_row_number) AS b FROM read_parquet('${join(data, f.path)}', file_row_number = true)`,
      );
      orders.push((r.getRowObjectsJson()[0] as { b: number[] }).b);
    }
    expect(orders.sort()).toEqual([
      [3, 4],
      [5, 1, 2],
    ]);
    c.closeSync();
    db.closeSync();
  });
});
