/**
 * The flows dataset written in sorted runs (src/questions/dataset-export.ts, writeFlows) must be the same download as
 * one sorted COPY, in every format: same bytes for CSV, same array for JSON, same rows for Parquet, the row limit
 * cutting at the same row. The fixture is built to catch the easy mistakes: 40 records in two files of one partition
 * (so no file order can stand in for the sort), eight distinct start times of five records each (a run keeps a whole
 * start time, so runs of RUN_ROWS = 3 hold five records sorted by flow_id), flow ids shuffled, and records outside
 * the window. A limit of 13 falls inside the third run.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatasetRequest } from '../../src/http/dataset-params.ts';
import { exportDataset, type DatasetFile } from '../../src/questions/dataset-export.ts';
import type { DatasetFormat } from '../../src/domain/dataset-formats.ts';
import { memoryLogger, testQueryContext } from '../helpers/query-context.ts';
import { writeFixtureWarehouse, type FixtureRecord } from '../helpers/warehouse-fixture.ts';

const RUN_ROWS = 3;
const IN_WINDOW = 40;
let root: string;
let exportDir: string;
let db: DuckDBInstance;

/** Record i: one of eight start times, a flow id no sort by insertion order would give back. */
function record(i: number, date = '2024-05-01'): FixtureRecord {
  return {
    account_id: '111111111111',
    region: 'eu-west-1',
    start_time: `${date}T10:0${i % 8}:00Z`,
    end_time: `${date}T10:0${i % 8}:30Z`,
    flow_id: BigInt((i * 7919) % 1000),
    srcaddr: `10.0.0.${i}`,
    dstaddr: '10.0.1.1',
    srcport: 40000 + i,
    dstport: 443,
    protocol: 6,
    packets: 1,
    bytes: BigInt(i) * 1_000_000_000n, // past 2^32, and JSON must keep it exact
    action: i % 5 === 0 ? 'REJECT' : 'ACCEPT',
    log_status: 'OK',
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-runs-'));
  exportDir = join(root, '_exports');
  const all = Array.from({ length: IN_WINDOW }, (_, i) => record(i));
  await writeFixtureWarehouse(
    root,
    all.filter((_, i) => i % 2 === 0),
  );
  await writeFixtureWarehouse(root, [
    ...all.filter((_, i) => i % 2 === 1),
    record(100, '2024-05-02'),
    record(101, '2024-04-30'),
  ]);
  db = await DuckDBInstance.create(':memory:');
  await mkdir(exportDir);
});

afterAll(async () => {
  db?.closeSync();
  await rm(root, { recursive: true, force: true });
});

/** One export read to the end, with how many files DuckDB wrote for it (from the export's log line). */
async function download(
  format: DatasetFormat,
  runRows: number,
  limit?: number,
): Promise<{ file: DatasetFile; bytes: Buffer; files: number }> {
  const ctx = await testQueryContext(root);
  const params = new URLSearchParams({
    from: '2024-05-01',
    to: '2024-05-02',
    ...(limit ? { limit: String(limit) } : {}),
  });
  const request = parseDatasetRequest('flows', params, {
    now: new Date('2024-06-01'),
    maxRangeMs: 31 * 86_400_000,
    scopeAccountIds: null,
    maxRows: 1000,
  });
  const file = await exportDataset(ctx, request, format, exportDir, runRows);
  const chunks: Buffer[] = [];
  for await (const chunk of file.stream) chunks.push(chunk as Buffer);
  const logged = (ctx.log as ReturnType<typeof memoryLogger>).lines.find((l) => l.msg === 'query')?.obj as {
    files: number;
  };
  return { file, bytes: Buffer.concat(chunks), files: logged.files };
}

describe('flows dataset in sorted runs', () => {
  it('CSV: the same bytes as one sorted COPY; one header; rows in (start_time, flow_id) order', async () => {
    const whole = await download('csv', 1000);
    const runs = await download('csv', RUN_ROWS);
    expect([whole.files, runs.files]).toEqual([1, 8]); // one run per start time
    expect(runs.bytes.equals(whole.bytes)).toBe(true);
    expect(runs.file.bytes).toBe(runs.bytes.length);
    expect(runs.file.rows).toBe(IN_WINDOW);
    const lines = runs.bytes.toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(IN_WINDOW + 1);
    expect(lines.filter((l) => l.startsWith('account_id,'))).toHaveLength(1);
    const header = lines[0]!.split(',');
    const keys = lines
      .slice(1)
      .map((l) => l.split(','))
      .map((f) => [f[header.indexOf('start_time')]!, Number(f[header.indexOf('flow_id')])] as const);
    const sorted = [...keys].sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
    expect(keys).toEqual(sorted);
    expect(keys[0]).toEqual(['2024-05-01T10:00:00Z', 0]);
  });

  it('JSON: one array equal to the whole export, exact 64-bit integers, Content-Length matching the bytes', async () => {
    const whole = JSON.parse((await download('json', 1000)).bytes.toString('utf8')) as Record<string, unknown>[];
    const runs = await download('json', RUN_ROWS);
    expect(runs.file.bytes).toBe(runs.bytes.length);
    const rows = JSON.parse(runs.bytes.toString('utf8')) as Record<string, unknown>[];
    expect(rows).toEqual(whole);
    expect(rows).toHaveLength(IN_WINDOW);
    expect(rows.find((r) => r.srcaddr === '10.0.0.39')?.bytes).toBe('39000000000');
  });

  it('Parquet: the same rows in the same order as the whole export', async () => {
    const read = async (bytes: Buffer, name: string) => {
      const path = join(root, name);
      await writeFile(path, bytes);
      const c = await db.connect();
      const rows = (
        await c.runAndReadAll(`SELECT flow_id, start_time::VARCHAR AS t, bytes FROM '${path}'`)
      ).getRowObjectsJS();
      c.closeSync();
      return rows;
    };
    const whole = await read((await download('parquet', 1000)).bytes, 'whole.parquet');
    const runs = await download('parquet', RUN_ROWS);
    expect(runs.file.rows).toBe(IN_WINDOW);
    expect(await read(runs.bytes, 'runs.parquet')).toEqual(whole);
  });

  it('the row limit cuts runs exactly where it cuts the whole export, and says so', async () => {
    for (const format of ['csv', 'json'] as const) {
      const whole = await download(format, 1000, 13);
      const runs = await download(format, RUN_ROWS, 13);
      const parsed = (d: { bytes: Buffer }) =>
        format === 'csv' ? d.bytes.toString('utf8') : (JSON.parse(d.bytes.toString('utf8')) as unknown);
      expect(parsed(runs)).toEqual(parsed(whole));
      expect(runs.file.rows).toBe(13);
      expect(runs.files).toBe(3);
      expect(runs.file.limitReached).toBe(true);
    }
  });

  it('leaves no file behind in the export directory', async () => {
    await download('parquet', RUN_ROWS);
    await download('json', RUN_ROWS);
    expect(await readdir(exportDir)).toEqual([]);
  });
});
