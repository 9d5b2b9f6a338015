/**
 * Writes a small warehouse from hand-written records, in the exact layout readers expect (src/store/layout.ts):
 * one zstd Parquet file per partition per call, with the stored column types of src/domain/flow-schema.ts, and a
 * manifest listing them. Calling it again on the same root appends files and bumps the manifest generation, as an
 * ingest would.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  BIGINT,
  INTEGER,
  MAP,
  TIMESTAMP,
  VARCHAR,
  DuckDBInstance,
  mapValue,
  timestampValue,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { STORED_COLUMNS } from '../../src/domain/flow-schema.ts';
import {
  EMPTY_MANIFEST,
  partitionDir,
  warehousePaths,
  type Manifest,
  type ManifestFile,
} from '../../src/store/layout.ts';

type Time = string | Date;

/** A stored record keyed by storage column; only account_id, region and start_time (or end_time) matter for layout. */
export interface FixtureRecord {
  readonly account_id?: string;
  readonly region?: string;
  readonly start_time?: Time | null;
  readonly end_time?: Time | null;
  readonly flow_id?: bigint | number;
  readonly source_id?: number;
  readonly source_line?: number;
  readonly extra?: Readonly<Record<string, string>> | null;
  readonly [column: string]: string | number | bigint | Date | null | undefined | Readonly<Record<string, string>>;
}

const toDate = (t: Time): Date => (t instanceof Date ? t : new Date(t));

function typeOf(sqlType: string): DuckDBType {
  switch (sqlType) {
    case 'VARCHAR':
      return VARCHAR;
    case 'INTEGER':
      return INTEGER;
    case 'BIGINT':
      return BIGINT;
    case 'TIMESTAMP':
      return TIMESTAMP;
    case 'MAP(VARCHAR, VARCHAR)':
      return MAP(VARCHAR, VARCHAR);
    default:
      throw new Error(`warehouse-fixture: no converter for stored type ${sqlType}`);
  }
}

function valueOf(column: string, sqlType: string, v: unknown): DuckDBValue {
  if (v === undefined || v === null) return null;
  switch (sqlType) {
    case 'VARCHAR':
      return String(v);
    case 'INTEGER':
      return Number(v);
    case 'BIGINT':
      return BigInt(v as number | bigint);
    case 'TIMESTAMP':
      return timestampValue(BigInt(toDate(v as Time).getTime()) * 1000n);
    default:
      if (column === 'extra')
        return mapValue(Object.entries(v as Record<string, string>).map(([key, value]) => ({ key, value })));
      throw new Error(`warehouse-fixture: cannot store ${column}`);
  }
}

/** Layout keys and provenance defaults of a record (source 1, lines from 2 in order, flow_id from them). */
function complete(r: FixtureRecord, index: number) {
  const time = r.start_time ?? r.end_time;
  if (!time) throw new Error(`warehouse-fixture: record ${index} has neither start_time nor end_time`);
  const sourceId = r.source_id ?? 1;
  const sourceLine = r.source_line ?? index + 2;
  return {
    ...r,
    account_id: r.account_id ?? '123456789012',
    region: r.region ?? 'us-east-1',
    date: toDate(time).toISOString().slice(0, 10),
    source_id: sourceId,
    source_line: sourceLine,
    flow_id: r.flow_id ?? BigInt(sourceId) * 2n ** 32n + BigInt(sourceLine),
  };
}

async function readManifest(path: string): Promise<Manifest> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Manifest;
  } catch {
    return EMPTY_MANIFEST;
  }
}

/** Writes `records` under `root` (one new Parquet file per partition) and commits them to the manifest. */
export async function writeFixtureWarehouse(root: string, records: readonly FixtureRecord[]): Promise<ManifestFile[]> {
  const paths = warehousePaths(root);
  const groups = new Map<string, ReturnType<typeof complete>[]>();
  records.forEach((r, i) => {
    const c = complete(r, i);
    const key = partitionDir('flows', c.account_id, c.region, c.date);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const written: ManifestFile[] = [];
  try {
    const columns = STORED_COLUMNS.map((c) => `${c.column === 'end' ? '"end"' : c.column} ${c.type}`).join(', ');
    const types = STORED_COLUMNS.map((c) => typeOf(c.type));
    for (const [dir, rows] of groups) {
      await connection.run(`CREATE OR REPLACE TABLE fixture (${columns})`);
      const appender = await connection.createAppender('fixture');
      for (const row of rows) {
        STORED_COLUMNS.forEach((c, i) => {
          appender.appendValue(valueOf(c.column, c.type, (row as Record<string, unknown>)[c.column]), types[i]);
        });
        appender.endRow();
      }
      appender.closeSync();
      const relative = `${dir}/part-${randomUUID()}.parquet`;
      const absolute = join(root, relative);
      await mkdir(dirname(absolute), { recursive: true });
      await connection.run(`COPY fixture TO '${absolute.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd)`);
      const first = rows[0] as ReturnType<typeof complete>;
      written.push({
        path: relative,
        table: 'flows',
        accountId: first.account_id,
        region: first.region,
        date: first.date,
        rows: rows.length,
        bytes: (await stat(absolute)).size,
      });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  await mkdir(paths.meta, { recursive: true });
  const previous = await readManifest(paths.manifest);
  const manifest: Manifest = {
    ...previous,
    generation: previous.generation + 1,
    updatedAt: new Date().toISOString(),
    files: [...previous.files, ...written],
    ingest: {
      ...previous.ingest,
      records: previous.ingest.records + records.length,
      lastIngestAt: new Date().toISOString(),
    },
  };
  const temp = `${paths.manifest}.${randomUUID()}.tmp`;
  await writeFile(temp, JSON.stringify(manifest, null, 2));
  await rename(temp, paths.manifest);
  return written;
}
