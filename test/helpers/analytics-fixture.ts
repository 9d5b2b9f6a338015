/**
 * Hand-built flow records for the connection-analytics tests, written as real Hive-partitioned Parquet in the flows
 * layout, and a real DuckDB context to run the builders through the production query runner.
 */
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { STORED_COLUMNS } from '../../src/domain/flow-schema.ts';
import { CostMeter } from '../../src/store/query-cost.ts';
import { runQuery, type QueryContext, type Row } from '../../src/store/query-runner.ts';
import type { SqlQuery } from '../../src/store/sql.ts';
import { createWarehouseReader } from '../../src/store/warehouse-reader.ts';

/** A record by storage column; `start`/`end` are epoch seconds (converted to start_time/end_time). */
export type FixtureRecord = Record<string, string | number | null> & { start: number; end?: number };

const DEFAULTS = {
  version: 5,
  account_id: '111111111111',
  region: 'us-east-1',
  protocol: 6,
  packets: 1,
  bytes: 100,
  action: 'ACCEPT',
  log_status: 'OK',
};

/** A record with the defaults above (v5, TCP, ACCEPT, OK, account 111111111111 in us-east-1). */
export function rec(fields: FixtureRecord): FixtureRecord {
  return { ...DEFAULTS, end: fields.start + 60, ...fields };
}

/** Epoch seconds of an ISO UTC time, e.g. t('2024-03-01T10:00:00'). */
export function t(iso: string): number {
  return Date.parse(`${iso}Z`) / 1000;
}

/** A DuckDB instance in UTC and a query context around it; `run` goes through the production query runner. */
export async function openAnalyticsDb(root = tmpdir()) {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run("SET TimeZone = 'UTC'");
  c.closeSync();
  const ctx = (): QueryContext => ({
    db,
    warehouse: createWarehouseReader(root),
    cost: new CostMeter(),
    deadline: Date.now() + 60_000,
    log: { info: () => undefined, warn: () => undefined },
  });
  return { db, ctx, run: (q: SqlQuery): Promise<Row[]> => runQuery(ctx(), q) };
}

const columnsSpec = (): string => {
  const cols = STORED_COLUMNS.filter((c) => c.column !== 'extra' && !['start_time', 'end_time'].includes(c.column));
  const spec = cols.map((c) => `${c.column}: '${c.type}'`);
  return `{${[...spec, "account_id: 'VARCHAR'", "region: 'VARCHAR'", "start: 'BIGINT'", '"end": \'BIGINT\''].join(', ')}}`;
};

/** Writes records as <root>/flows/account_id=/region=/date=/*.parquet; returns the absolute file paths, sorted. */
export async function writeFlowFiles(
  records: readonly FixtureRecord[],
  root?: string,
): Promise<{ root: string; files: string[] }> {
  const dir = root ?? (await mkdtemp(join(tmpdir(), 'flowql-conn-')));
  const json = join(dir, `records-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(json, JSON.stringify(records));
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run("SET TimeZone = 'UTC'");
  await c.run(
    `COPY (SELECT * EXCLUDE (start, "end"), epoch_ms(start * 1000) AS start_time, epoch_ms("end" * 1000) AS end_time,
                  CAST(epoch_ms(start * 1000) AS DATE) AS date
           FROM read_json('${json}', format = 'array', columns = ${columnsSpec()}))
     TO '${dir}/flows' (FORMAT parquet, PARTITION_BY (account_id, region, date), APPEND, FILENAME_PATTERN 'part-{uuid}')`,
  );
  c.closeSync();
  const files = (await readdir(join(dir, 'flows'), { recursive: true }))
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => join(dir, 'flows', f))
    .sort();
  return { root: dir, files };
}
