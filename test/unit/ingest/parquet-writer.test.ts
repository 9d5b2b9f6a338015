// flushBatch over a batch holding a v2 object and a v3 object (vpc_id, tcp_flags) plus an unknown field: each
// partition's file has every stored column, values of the columns any object fills, NULL elsewhere, sorted rows, and
// the ledger's rows-per-source counts taken from the batch match the rows in the file.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORED_COLUMNS } from '../../../src/domain/flow-schema.ts';
import { openIngestEngine, type IngestEngine } from '../../../src/ingest/ingest-engine.ts';
import { loadTextObject } from '../../../src/ingest/ingest-load-text.ts';
import { fileSlices, flushBatch } from '../../../src/ingest/parquet-writer.ts';
import { fileStats } from '../../../src/analytics/derive-inputs.ts';
import { UNDIRECTED_KV_KEY } from '../../../src/analytics/undirected-records.ts';
import { layoutOfObject } from '../../helpers/text-layout.ts';

// Object 1 (v2), 3 records: account 111122223333 on 2023-11-14 (starts 1700000300, 1700000100) and 2023-11-15.
const V2 = [
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  '2 111122223333 eni-a 10.0.0.1 10.0.0.2 443 50000 6 1 100 1700000300 1700000360 ACCEPT OK',
  '2 111122223333 eni-a 10.0.0.1 10.0.0.2 443 50001 6 1 200 1700000100 1700000160 ACCEPT OK',
  '2 111122223333 eni-a 10.0.0.1 10.0.0.2 443 50002 6 1 300 1700086400 1700086460 ACCEPT OK',
].join('\n');
// Object 2 (v3 fields + an unknown future field), 2 records on 2023-11-14 (starts 1700000200, 1700000000).
const V3 = [
  'account-id interface-id srcaddr start end vpc-id tcp-flags bytes future-field',
  '111122223333 eni-b 10.0.0.3 1700000200 1700000260 vpc-1 2 400 x1',
  '111122223333 eni-b 10.0.0.3 1700000000 1700000060 vpc-1 18 500 -',
].join('\n');

let engine: IngestEngine;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowql-writer-'));
  engine = await openIngestEngine(join(dir, 'ledger.duckdb'), dir, { threads: 1 });
});
afterAll(() => engine.close());

describe('flushBatch', () => {
  it('writes one sorted file per partition with every stored column, padding the columns no object fills', async () => {
    const filled = new Set<string>();
    for (const [sourceId, text] of [
      [1, V2],
      [2, V3],
    ] as const) {
      const path = join(dir, `o${sourceId}.log`);
      await writeFile(path, `${text}\n`);
      const { layout, header } = await layoutOfObject(path, false);
      const ctx = { sourceId, keyAccountId: '111122223333', keyRegion: 'eu-west-1', keyDate: '2023-11-14' };
      const result = await loadTextObject(engine.loaders[0]!, path, false, layout, header, ctx, engine.batches);
      result.columns.forEach((c) => filled.add(c));
    }
    expect(filled.has('vpc_id') && filled.has('extra') && !filled.has('tgw_id')).toBe(true);
    // One narrow table per layout: v2 fills 16 stored columns, the v3 object 11 (with source_account_id, extra).
    const tables = await engine.batches.tables();
    expect(tables.map((t) => [t.name, t.columns.length])).toEqual([
      ['ingest_batch.main.batch_1', 16],
      ['ingest_batch.main.batch_2', 11],
    ]);
    const staged = await flushBatch(engine.main, dir, engine.batches);
    expect(staged.map((f) => [f.date, f.rows, f.sources])).toEqual([
      [
        '2023-11-14',
        4,
        [
          { sourceId: 1, rows: 2 },
          { sourceId: 2, rows: 2 },
        ],
      ],
      ['2023-11-15', 1, [{ sourceId: 1, rows: 1 }]],
    ]);
    const file = staged[0]!;
    expect(file.path).toMatch(
      /^flows\/account_id=111122223333\/region=eu-west-1\/date=2023-11-14\/part-[0-9a-f-]+\.parquet$/,
    );
    const described = (
      await engine.main.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file.stagedPath}')`)
    ).getRowObjectsJS();
    expect(described.map((r) => [r.column_name, r.column_type])).toEqual(STORED_COLUMNS.map((c) => [c.column, c.type]));
    const rows = (
      await engine.main.runAndReadAll(
        `SELECT bytes::INTEGER AS b, vpc_id, tcp_flags, extra['future-field'] AS future, tgw_id, flow_id::VARCHAR AS flow_id,
                source_line FROM read_parquet('${file.stagedPath}')`,
      )
    ).getRowObjectsJson();
    // Sorted by the hour of start_time (all four start in 22:00 UTC), then source object and line (the flows file
    // order of parquet-writer.ts): source 1 lines 2, 3, then source 2 lines 2, 3.
    expect(rows).toEqual([
      {
        b: 100,
        vpc_id: null,
        tcp_flags: null,
        future: null,
        tgw_id: null,
        flow_id: String(1 * 2 ** 32 + 2),
        source_line: 2,
      },
      {
        b: 200,
        vpc_id: null,
        tcp_flags: null,
        future: null,
        tgw_id: null,
        flow_id: String(1 * 2 ** 32 + 3),
        source_line: 3,
      },
      {
        b: 400,
        vpc_id: 'vpc-1',
        tcp_flags: 2,
        future: 'x1',
        tgw_id: null,
        flow_id: String(2 * 2 ** 32 + 2),
        source_line: 2,
      },
      {
        b: 500,
        vpc_id: 'vpc-1',
        tcp_flags: 18,
        future: null,
        tgw_id: null,
        flow_id: String(2 * 2 ** 32 + 3),
        source_line: 3,
      },
    ]);
    expect(await engine.batches.tables()).toEqual([]);
    const left = await engine.main.runAndReadAll(
      "SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name LIKE 'batch%'",
    );
    expect(left.getRowObjectsJson()).toEqual([{ n: 0 }]);
  });

  it('writes a partition of more rows than a file holds as files of consecutive hours, in the same order', async () => {
    // One day, hours 10 (2 records), 11 (1) and 12 (2) of 2023-11-14, from two objects; at most 3 rows a file: hours
    // 10-11 in one file, 12 in another. Lines are out of order within each object.
    const at = (h: number, m: number) => Date.UTC(2023, 10, 14, h, m) / 1000;
    const line = (port: number, start: number) =>
      `2 111122223333 eni-a 10.0.0.1 10.0.0.2 443 ${port} 6 1 100 ${start} ${start + 60} ACCEPT OK`;
    const header = V2.split('\n')[0]!;
    const objects = [
      [3, [line(1, at(12, 5)), line(2, at(10, 30)), line(3, at(11, 0))]],
      [4, [line(4, at(10, 1)), line(5, at(12, 59))]],
    ] as const;
    for (const [sourceId, lines] of objects) {
      const path = join(dir, `s${sourceId}.log`);
      await writeFile(path, `${[header, ...lines].join('\n')}\n`);
      const { layout, header: h } = await layoutOfObject(path, false);
      const ctx = { sourceId, keyAccountId: '111122223333', keyRegion: 'eu-west-1', keyDate: '2023-11-14' };
      await loadTextObject(engine.loaders[0]!, path, false, layout, h, ctx, engine.batches);
    }
    const staged = await flushBatch(engine.main, dir, engine.batches, 3);
    expect(staged.map((f) => [f.date, f.rows, f.sources])).toEqual([
      [
        '2023-11-14',
        3,
        [
          { sourceId: 3, rows: 2 },
          { sourceId: 4, rows: 1 },
        ],
      ],
      [
        '2023-11-14',
        2,
        [
          { sourceId: 3, rows: 1 },
          { sourceId: 4, rows: 1 },
        ],
      ],
    ]);
    const ports = async (file: string) =>
      (await engine.main.runAndReadAll(`SELECT dstport::INTEGER AS p FROM read_parquet('${file}')`))
        .getRowObjectsJson()
        .map((r) => r.p);
    // Hour, then source, then line: hour 10 holds source 3 line 3 (port 2) and source 4 line 2 (port 4).
    expect(await ports(staged[0]!.stagedPath)).toEqual([2, 4, 3]);
    expect(await ports(staged[1]!.stagedPath)).toEqual([1, 5]);
  });
});

describe('records without flow-direction', () => {
  it("writes into each file's footer whether it holds one, and derivation reads that instead of scanning", async () => {
    // Hour 10: a v5 record with flow-direction and a NODATA record (no addresses: not one the rules read); hour 12: a
    // record of the same flow log without flow-direction. At most 2 rows a file: one file per hour.
    const at = (h: number) => Date.UTC(2023, 10, 20, h, 5) / 1000;
    const header =
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction';
    const lines = [
      `5 111122223333 eni-a 10.0.0.1 10.0.0.2 443 50000 6 1 100 ${at(10)} ${at(10) + 60} ACCEPT OK egress`,
      `5 111122223333 eni-a - - - - - - - ${at(10)} ${at(10) + 60} - NODATA -`,
      `5 111122223333 eni-a 10.0.0.1 10.0.0.2 443 50001 6 1 100 ${at(12)} ${at(12) + 60} ACCEPT OK -`,
    ];
    const path = join(dir, 'directions.log');
    await writeFile(path, `${[header, ...lines].join('\n')}\n`);
    const { layout, header: h } = await layoutOfObject(path, false);
    const ctx = { sourceId: 9, keyAccountId: '111122223333', keyRegion: 'eu-west-1', keyDate: '2023-11-20' };
    await loadTextObject(engine.loaders[0]!, path, false, layout, h, ctx, engine.batches);
    const [hour10, hour12] = (await flushBatch(engine.main, dir, engine.batches, 2)).map((f) => f.stagedPath);
    const footer = async (file: string) =>
      (
        await engine.main.runAndReadAll(
          `SELECT decode(value) AS v FROM parquet_kv_metadata('${file}') WHERE decode(key) = '${UNDIRECTED_KV_KEY}'`,
        )
      ).getRowObjectsJson();
    expect(await footer(hour10!)).toEqual([{ v: 'false' }]);
    expect(await footer(hour12!)).toEqual([{ v: 'true' }]);
    // Copies without the key (another writer): the statistics show a NULL flow-direction in both, so both are
    // scanned, with the same answer.
    const copies = [join(dir, 'copy10.parquet'), join(dir, 'copy12.parquet')];
    for (const [i, file] of [hour10!, hour12!].entries())
      await engine.main.run(`COPY (SELECT * FROM read_parquet('${file}')) TO '${copies[i]}' (FORMAT parquet)`);
    const stats = await fileStats(engine.instance, [hour10!, hour12!, ...copies]);
    expect([...stats.undirected].sort()).toEqual([hour12!, copies[1]!].sort());
  });
});

describe('fileSlices', () => {
  const c = (hour: number | null, sourceId: number, rows: number, undirected = false) => ({
    hour,
    sourceId,
    rows,
    undirected,
  });
  it('cuts consecutive hours at the row bound, an hour above it alone, rows without a start last', () => {
    const slices = fileSlices([c(5, 1, 2), c(3, 1, 1), c(3, 2, 1), c(4, 2, 9), c(null, 1, 1, true), c(6, 2, 1)], 4);
    expect(slices).toEqual([
      {
        from: 3,
        to: 3,
        withoutStart: false,
        sources: [
          { sourceId: 1, rows: 1 },
          { sourceId: 2, rows: 1 },
        ],
        undirected: false,
      },
      { from: 4, to: 4, withoutStart: false, sources: [{ sourceId: 2, rows: 9 }], undirected: false },
      {
        from: 5,
        to: 6,
        withoutStart: true,
        sources: [
          { sourceId: 1, rows: 3 },
          { sourceId: 2, rows: 1 },
        ],
        // The rows without a start of source 1 are marked: their slice says so.
        undirected: true,
      },
    ]);
  });
  it('keeps a partition within the bound, or without any start, in one slice', () => {
    expect(fileSlices([c(1, 1, 2), c(2, 1, 2, true)], 4)).toEqual([
      { from: 1, to: 2, withoutStart: false, sources: [{ sourceId: 1, rows: 4 }], undirected: true },
    ]);
    expect(fileSlices([c(null, 7, 5)], 4)).toEqual([
      { from: null, to: null, withoutStart: true, sources: [{ sourceId: 7, rows: 5 }], undirected: false },
    ]);
  });
});
