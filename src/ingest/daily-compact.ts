/**
 * `flowql compact` writes the `flows_daily` tier (src/store/queries/flows-daily-query.ts): one file per closed
 * partition-day that has its flows_hourly files and no daily file yet, summed from those hourly files.
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
import { partitionDir, partitionKey, type ManifestFile } from '../store/layout.ts';
import { dailyRollupFromHourlySql } from '../store/queries/flows-daily-query.ts';
import { runBound } from '../store/query-runner.ts';
import { build, raw, sql } from '../store/sql.ts';
import { derivedDayClosed } from './derived-compact.ts';
import type { StagedFile } from './parquet-writer.ts';

/** The partitions (their hourly files) that need a daily file at `now`: closed, derived, without one. */
export function partitionsWantingDaily(live: readonly ManifestFile[], now: Date): ManifestFile[][] {
  const withFlows = new Set(live.filter((f) => f.table === 'flows').map(partitionKey));
  const withDaily = new Set(live.filter((f) => f.table === 'flows_daily').map(partitionKey));
  const hourly = new Map<string, ManifestFile[]>();
  for (const f of live) {
    if (f.table !== 'flows_hourly' || !derivedDayClosed(f.date, now)) continue;
    const k = partitionKey(f);
    if (!withFlows.has(k) || withDaily.has(k)) continue;
    hourly.set(k, [...(hourly.get(k) ?? []), f]);
  }
  return [...hourly.keys()].sort().map((k) => hourly.get(k)!);
}

/** Sums one partition's hourly files (read from `inputs`) into a staged flows_daily file. */
export async function writeDailyFile(
  c: DuckDBConnection,
  stagingDir: string,
  hourly: readonly ManifestFile[],
  inputs: readonly string[],
): Promise<StagedFile> {
  const { accountId, region, date } = hourly[0]!;
  const name = `part-daily-${randomUUID()}.parquet`;
  const staged = join(stagingDir, `flows_daily-${name}`);
  // COPY's target cannot be a bound parameter; the path is ours (staging + a uuid), quoted as a literal.
  const target = raw(`'${staged.replaceAll("'", "''")}'`);
  const copied = await runBound(
    c,
    build(
      'flows_daily.write',
      sql`COPY (${dailyRollupFromHourlySql(inputs)}) TO ${target} (FORMAT parquet, COMPRESSION zstd)`,
    ),
  );
  return {
    accountId,
    region,
    date,
    table: 'flows_daily',
    stagedPath: staged,
    path: `${partitionDir('flows_daily', accountId, region, date)}/${name}`,
    rows: Number(copied.getRows()[0]?.[0] ?? 0),
    bytes: (await stat(staged)).size,
    sources: [],
  };
}
