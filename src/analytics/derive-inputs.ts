/**
 * What a derivation statement reads (derive-tables.ts): the flows files an hour's widened span can hold records of,
 * known from their Parquet statistics, and the runs of hours one statement derives.
 */
import type { DuckDBInstance } from '@duckdb/node-api';
import type { ManifestFile } from '../store/layout.ts';
import { runBound } from '../store/query-runner.ts';
import { build, raw, sql } from '../store/sql.ts';
import { HOUR_MS } from './derived-hours.ts';
import { undirectedFromFooters, undirectedRecordSql } from './undirected-records.ts';

/** The most records (estimated) one statement derives: fewer statements cost less planning, smaller ones less memory. */
const RUN_RECORDS = 250_000;

/** A flows file's earliest and latest record start (null when its statistics do not say). */
export type StartRange = { readonly min: number; readonly max: number } | null;

/** What the Parquet statistics of flows files say (footers only, no data read). */
interface FileStats {
  readonly ranges: Map<string, StartRange>;
  /** Files holding records with addresses and a start but no flow-direction (v2-v4). */
  readonly undirected: Set<string>;
}

export async function fileStats(db: DuckDBInstance, paths: readonly string[]): Promise<FileStats> {
  const ranges = new Map<string, StartRange>(paths.map((p) => [p, null]));
  const undirected = new Set(paths);
  // Files whose footer does not say (undirected-records.ts): scanned unless their statistics rule it out.
  const scanned = new Set(paths);
  if (paths.length === 0) return { ranges, undirected };
  const c = await db.connect();
  try {
    const q = build(
      'derive.fileStats',
      sql`SELECT file_name,
       min(stats_min_value) FILTER (path_in_schema = 'start_time') AS lo,
       max(stats_max_value) FILTER (path_in_schema = 'start_time') AS hi,
       bool_and(stats_min_value IS NOT NULL) FILTER (path_in_schema = 'start_time') AS known,
       bool_or(stats_null_count IS NULL OR stats_null_count > 0) FILTER (path_in_schema = 'flow_direction') AS undirected
FROM parquet_metadata(${paths}) WHERE path_in_schema IN ('start_time', 'flow_direction') GROUP BY file_name`,
    );
    // What flowql wrote into the footer is the answer (undirected-records.ts); statistics and a scan for the rest.
    const known = await undirectedFromFooters(c, paths);
    for (const [file, holds] of known) {
      if (!holds) undirected.delete(file);
      scanned.delete(file);
    }
    for (const r of (await runBound(c, q)).getRowObjectsJS()) {
      const file = String(r.file_name);
      if (!known.has(file) && r.undirected === false) undirected.delete(file);
      if (r.known !== true || r.lo === null || r.hi === null) continue;
      const parse = (v: unknown) => Date.parse(`${String(v).replace(' ', 'T')}Z`);
      ranges.set(file, { min: parse(r.lo), max: parse(r.hi) });
    }
    // A null flow-direction in the statistics is usually a NODATA or SKIPDATA record (no addresses, no pairing): only
    // a record the connection rules read makes its day undirected. Those files are scanned (four columns).
    const unsure = [...undirected].filter((file) => scanned.has(file));
    if (unsure.length > 0) {
      const scan = build(
        'derive.undirectedFiles',
        sql`SELECT filename AS file FROM read_parquet(${unsure}, filename = true)
WHERE ${raw(undirectedRecordSql())}
GROUP BY filename`,
      );
      const found = new Set((await runBound(c, scan)).getRowObjectsJS().map((r) => String(r.file)));
      for (const file of unsure) if (!found.has(file)) undirected.delete(file);
    }
  } finally {
    c.closeSync();
  }
  return { ranges, undirected };
}

/** Records of `files` starting in hour `h` widened by `contextMs`, if each file's records spread evenly over its range. */
export function estimatedRecords(
  files: readonly ManifestFile[],
  ranges: ReadonlyMap<string, StartRange>,
  located: ReadonlyMap<ManifestFile, string>,
  h: number,
  contextMs: number,
): number {
  const [from, to] = [h * HOUR_MS - contextMs, (h + 1) * HOUR_MS + contextMs];
  let n = 0;
  for (const f of files) {
    const r = ranges.get(located.get(f)!);
    if (!r) n += f.rows;
    else n += (f.rows * Math.max(0, Math.min(to, r.max + 1) - Math.max(from, r.min))) / Math.max(1, r.max + 1 - r.min);
  }
  return n;
}

/**
 * Consecutive runs of the hours to derive, each read by one statement: at most a day, and at most RUN_RECORDS
 * records (estimated) unless one hour alone holds more, each with its estimate. Fewer statements matter: planning a
 * derivation costs tens of milliseconds whatever it reads.
 */
export function runsOf(
  hours: readonly number[],
  records: (h: number) => number,
): { hours: number[]; records: number }[] {
  const runs: { hours: number[]; records: number }[] = [];
  let run: { hours: number[]; records: number } = { hours: [], records: 0 };
  for (const h of hours) {
    const n = records(h);
    if (run.hours.length > 0 && (h - run.hours[0]! >= 24 || run.records + n > RUN_RECORDS)) {
      runs.push(run);
      run = { hours: [], records: 0 };
    }
    run.hours.push(h);
    run.records += n;
  }
  if (run.hours.length > 0) runs.push(run);
  return runs;
}

/**
 * The first epoch hour whose derived rows get a file of their own (derived-run-writer.ts runFiles): two before the
 * newest record the scope's `ranges` hold, since the next delivery's records start in the newest hour or the one
 * before and reach one hour further back. Without statistics to say which record is newest, every hour (-Infinity).
 */
export function openHoursFrom(ranges: readonly StartRange[]): number {
  if (ranges.some((r) => r === null)) return -Infinity;
  return Math.floor(Math.max(...ranges.map((r) => r!.max)) / HOUR_MS) - 2;
}
