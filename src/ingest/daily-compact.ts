/**
 * `flowql compact` writes the daily rollups (src/store/layout.ts DAILY_ROLLUPS): `flows_daily`
 * (src/store/queries/flows-daily-query.ts) and `edges_daily`/`org_edges_daily` (src/analytics/edges-daily-query.ts),
 * one file per closed partition-day that has its hourly files and no daily file yet, summed from those hourly files.
 *
 * Why compact and not ingest: a daily file is a function of the whole day, so writing it at ingest would make every
 * delivery cost as much as its day. Ingest only retires it (derive-tables.ts, derived-hours.ts staleDerivedFiles), in
 * the commit that changes the day; the next compaction writes it again. Only closed days (derivedDayClosed) are
 * written: the day still receiving deliveries would lose its daily file at the next delivery anyway.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { edgesDailyRollupSql } from '../analytics/edges-daily-query.ts';
import {
  DAILY_ROLLUPS,
  partitionDir,
  partitionKey,
  type DailyRollup,
  type ManifestFile,
  type TableName,
} from '../store/layout.ts';
import { dailyRollupFromHourlySql } from '../store/queries/flows-daily-query.ts';
import { runBound } from '../store/query-runner.ts';
import { build, raw, sql, type SqlFragment } from '../store/sql.ts';
import { PARQUET_SETTLED_OPTIONS } from '../store/parquet-options.ts';
import { derivedDayClosed } from './derived-compact.ts';
import type { StagedFile } from './parquet-writer.ts';

/** A partition-day that needs a daily file: the rollup to write and the hourly files it sums. */
export interface DailyWanted {
  readonly table: DailyRollup;
  readonly hourly: readonly ManifestFile[];
}

/**
 * The partitions that need a daily file at `now`, for each rollup (DAILY_ROLLUPS): closed days with hourly files of
 * the rollup's source table (and flows, for flows_hourly, whose files outlive a partition's flows until retired) and
 * no daily file yet.
 */
export function partitionsWantingDaily(live: readonly ManifestFile[], now: Date): DailyWanted[] {
  const withFlows = new Set(live.filter((f) => f.table === 'flows').map(partitionKey));
  const out: DailyWanted[] = [];
  for (const [table, source] of Object.entries(DAILY_ROLLUPS) as [DailyRollup, TableName][]) {
    const withDaily = new Set(live.filter((f) => f.table === table).map(partitionKey));
    const hourly = new Map<string, ManifestFile[]>();
    for (const f of live) {
      if (f.table !== source || !derivedDayClosed(f.date, now)) continue;
      const k = partitionKey(f);
      if ((source === 'flows_hourly' && !withFlows.has(k)) || withDaily.has(k)) continue;
      hourly.set(k, [...(hourly.get(k) ?? []), f]);
    }
    for (const k of [...hourly.keys()].sort()) out.push({ table, hourly: hourly.get(k)! });
  }
  return out;
}

/** The columns the files hold (by name, as union_by_name reads them). */
async function storedColumns(c: DuckDBConnection, inputs: readonly string[]): Promise<Set<string>> {
  const described = await runBound(
    c,
    build(
      'daily.columns',
      sql`DESCRIBE SELECT * FROM read_parquet(${inputs}, hive_partitioning = false, union_by_name = true)`,
    ),
  );
  return new Set(described.getRows().map((r) => String(r[0])));
}

const ROLLUP_SQL: Record<DailyRollup, (c: DuckDBConnection, inputs: readonly string[]) => Promise<SqlFragment>> = {
  flows_daily: async (_c, inputs) => dailyRollupFromHourlySql(inputs),
  edges_daily: async (c, inputs) => edgesDailyRollupSql(inputs, await storedColumns(c, inputs)),
  org_edges_daily: async (c, inputs) => edgesDailyRollupSql(inputs, await storedColumns(c, inputs)),
};

/** Sums one partition's hourly files (read from `inputs`) into a staged daily file of `table`. */
export async function writeDailyFile(
  c: DuckDBConnection,
  stagingDir: string,
  { table, hourly }: DailyWanted,
  inputs: readonly string[],
): Promise<StagedFile> {
  const { accountId, region, date } = hourly[0]!;
  const name = `part-daily-${randomUUID()}.parquet`;
  const staged = join(stagingDir, `${table}-${name}`);
  // COPY's target cannot be a bound parameter; the path is ours (staging + a uuid), quoted as a literal.
  const target = raw(`'${staged.replaceAll("'", "''")}'`);
  const copied = await runBound(
    c,
    build(
      `${table}.write`,
      sql`COPY (${await ROLLUP_SQL[table](c, inputs)}) TO ${target} (${raw(PARQUET_SETTLED_OPTIONS)})`,
    ),
  );
  return {
    accountId,
    region,
    date,
    table,
    stagedPath: staged,
    path: `${partitionDir(table, accountId, region, date)}/${name}`,
    rows: Number(copied.getRows()[0]?.[0] ?? 0),
    bytes: (await stat(staged)).size,
    sources: [],
  };
}
