/**
 * Derives the `handshakes/` and `edges/` tables (issue 5) for what an ingest commit changed, so API queries over long
 * ranges read small pre-paired tables instead of pairing raw records every time; and `flows_hourly/`, the flows summed
 * per hour that aggregates read instead of every record (src/store/queries/flows-hourly-query.ts).
 *
 * The unit of derivation is one UTC hour of one (account, region, date) partition: a derived file holds the rows of
 * one hour (`part-derived-hHH-<id>.parquet`; `flowql compact` may merge a day's into `part-derived-hAA-hBB-<id>`).
 * The rows of an hour are computed from the records starting in that hour widened by the table's context on each
 * side (DERIVE_CONTEXT_SECONDS for the connection tables, whose pairing and direction look around a record; none for
 * flows_hourly) and from nothing else. So:
 * - a commit re-derives only the hours whose widened span holds the start of a record it added or removed: the
 *   records' own hours and at most one neighbour each (across midnight too), never whole days;
 * - an hour derived in any commit, in any order of deliveries, is the same function of the same records: incremental
 *   and from-scratch derivations write the same rows in the same order (test/integration/derive-incremental.test.ts).
 *
 * A partition's derived table is either absent (readers fall back to the raw flows, connection-source.ts) or exact
 * for every hour: a partition derived for the first time is derived whole, and an hour without rows has no file (a
 * partition whose hours are all empty keeps one empty file, to say it was derived). The new files and the files they
 * replace are committed in the same manifest swap as the flows, so a reader never sees an hour twice.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { partitionDir, partitionKey, type ManifestFile, type TableName } from '../store/layout.ts';
import { runBound } from '../store/query-runner.ts';
import { build, raw, sql, type SqlFragment } from '../store/sql.ts';
import { hourlyRollupFromFlowsSql } from '../store/queries/flows-hourly-query.ts';
import { DERIVE_CONTEXT_SECONDS } from './connection-rules.ts';
import { edgeRowsFromFlowsSql } from './edge-rows-query.ts';
import type { FlowSource } from './flow-source.ts';
import { handshakesFromFlowsSql } from './handshake-query.ts';

/** One (account, region, UTC date) partition. */
export interface PartitionKey {
  readonly accountId: string;
  readonly region: string;
  readonly date: string;
}

/** A half-open time span [from, to). */
export interface TimeSpan {
  readonly from: Date;
  readonly to: Date;
}

/**
 * Where a commit changed the flows of a partition: the starts of the records it added or removed, as spans (one per
 * changed hour is enough), or `all` when every hour may have changed (a partition derived on request).
 */
export interface FlowChange {
  readonly partition: PartitionKey;
  readonly starts: readonly TimeSpan[] | 'all';
  /** Some of the changed records have no flow-direction (v2-v4): the day's own-address judgements may change. */
  readonly undirected?: boolean;
}

/** What to derive. */
export interface DeriveTablesOptions {
  /** A DuckDB instance allowed to write under `root` (the ingester's, not the locked-down API one). */
  readonly db: DuckDBInstance;
  /** Local warehouse root (where files are read from and written to unless `locate`/`stagingDir` say otherwise). */
  readonly root: string;
  /** The live files after the commit: its flows files, and the derived files committed before it. */
  readonly files: readonly ManifestFile[];
  /** What the commit changed. */
  readonly changes: readonly FlowChange[];
  /**
   * A local path DuckDB can read a flows file from. The ingester passes its staged copies of files not published yet
   * (and, for an S3 warehouse, downloaded copies), so derivation runs before the commit and joins its manifest swap.
   */
  readonly locate?: (file: ManifestFile) => string | Promise<string>;
  /** Write the derived files into this flat folder (as `stagedPath`) instead of their final place under `root`. */
  readonly stagingDir?: string;
}

/** A derived file; `stagedPath` is set when it was written to `stagingDir` and still has to be published to `path`. */
export type DerivedFile = ManifestFile & { readonly stagedPath?: string };

/** New derived files to add to the manifest, and the committed derived files they replace or drop. */
export interface DeriveTablesResult {
  readonly files: DerivedFile[];
  readonly retired: ManifestFile[];
  /** Hours derived (one per table and hour), for logs and benchmarks. */
  readonly hoursDerived: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/**
 * Runs of more records (estimated, counting each once per hour that reads it) are read as a streamed source
 * (flow-source.ts). Held in memory, a run costs about 1.2 KB per record during a statement; streamed, every use
 * re-reads the columns it needs, which costs CPU on small sources (+25% on 3,000 records) but less than allocating on
 * large ones: bench:ingest's 400,000 records took 12.0 CPU s and 0.76 GiB with runs of up to 250,000 records
 * streamed, 12.9 s and 0.83 GiB held.
 */
const STREAM_ABOVE_RECORDS = 50_000;
/** The most records (estimated) one statement derives: fewer statements cost less planning, smaller ones less memory. */
const RUN_RECORDS = 250_000;

/** One derived table: how far around an hour its rows look, and the SELECT of its rows led by their `unit`. */
interface DerivedTableSpec {
  readonly table: TableName;
  readonly contextMs: number;
  readonly select: (source: FlowSource & { readonly units: NonNullable<FlowSource['units']> }) => SqlFragment;
}

const DERIVED_TABLES: readonly DerivedTableSpec[] = [
  { table: 'handshakes', contextMs: DERIVE_CONTEXT_SECONDS * 1000, select: (s) => handshakesFromFlowsSql(s) },
  { table: 'edges', contextMs: DERIVE_CONTEXT_SECONDS * 1000, select: (s) => edgeRowsFromFlowsSql(s) },
  { table: 'flows_hourly', contextMs: 0, select: (s) => hourlyRollupFromFlowsSql(s.files, s.units!.hours) },
];

const dayStart = (date: string): number => Date.parse(`${date}T00:00:00Z`);
const dateOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const scopeOf = (f: { readonly accountId: string; readonly region: string }): string => `${f.accountId}/${f.region}`;

/** The hours (inclusive, 0-23) a derived file holds, from its name; a file of an older flowql holds its whole day. */
export function derivedFileHours(path: string): readonly [number, number] {
  const m = /part-derived-h(\d\d)(?:-h(\d\d))?-/.exec(path);
  if (!m) return [0, 23];
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

/** The file name of derived rows of hours `first`..`last` of a day. */
export function derivedFileName(first: number, last: number): string {
  const hh = (h: number) => `h${String(h).padStart(2, '0')}`;
  return `part-derived-${first === last ? hh(first) : `${hh(first)}-${hh(last)}`}-${randomUUID()}.parquet`;
}

/** The hours (epoch ms of their start) whose span widened by `contextMs` holds a record starting in `span`. */
function hoursReached(span: TimeSpan, contextMs: number): number[] {
  const first = Math.floor((span.from.getTime() - contextMs) / HOUR_MS);
  // `to` is exclusive: the last start that can be in the span is just before it.
  const last = Math.floor((span.to.getTime() - 1 + contextMs) / HOUR_MS);
  const out: number[] = [];
  for (let h = first; h <= last; h++) out.push(h * HOUR_MS);
  return out;
}

/** A flows file's earliest and latest record start (null when its statistics do not say). */
type StartRange = { readonly min: number; readonly max: number } | null;

/** What the Parquet statistics of flows files say (footers only, no data read). */
interface FileStats {
  readonly ranges: Map<string, StartRange>;
  /** Files holding records with addresses and a start but no flow-direction (v2-v4). */
  readonly undirected: Set<string>;
}

async function fileStats(opts: DeriveTablesOptions, paths: readonly string[]): Promise<FileStats> {
  const ranges = new Map<string, StartRange>(paths.map((p) => [p, null]));
  const undirected = new Set(paths);
  if (paths.length === 0) return { ranges, undirected };
  const c = await opts.db.connect();
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
    for (const r of (await runBound(c, q)).getRowObjectsJS()) {
      const file = String(r.file_name);
      if (r.undirected === false) undirected.delete(file);
      if (r.known !== true || r.lo === null || r.hi === null) continue;
      const parse = (v: unknown) => Date.parse(`${String(v).replace(' ', 'T')}Z`);
      ranges.set(file, { min: parse(r.lo), max: parse(r.hi) });
    }
    // A null flow-direction in the statistics is usually a NODATA or SKIPDATA record (no addresses, no pairing): only
    // a record the connection rules read makes its day undirected. Those files are scanned (four columns).
    if (undirected.size > 0) {
      const scan = build(
        'derive.undirectedFiles',
        sql`SELECT filename AS file FROM read_parquet(${[...undirected]}, filename = true)
WHERE flow_direction IS NULL AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND start_time IS NOT NULL
GROUP BY filename`,
      );
      const found = new Set((await runBound(c, scan)).getRowObjectsJS().map((r) => String(r.file)));
      for (const file of [...undirected]) if (!found.has(file)) undirected.delete(file);
    }
  } finally {
    c.closeSync();
  }
  return { ranges, undirected };
}

/** The hours of one table to derive, per partition, and the committed files of that table they retire. */
function planTable(
  spec: DerivedTableSpec,
  flows: readonly ManifestFile[],
  derived: readonly ManifestFile[],
  changes: readonly FlowChange[],
): { hours: Map<string, Set<number>>; retired: ManifestFile[] } {
  const withFlows = new Set(flows.map(partitionKey));
  const live = new Map<string, ManifestFile[]>();
  for (const f of derived.filter((d) => d.table === spec.table)) live.set(partitionKey(f), [...(live.get(partitionKey(f)) ?? []), f]);
  const changed = new Set(changes.map((c) => partitionKey(c.partition)));
  const hours = new Map<string, Set<number>>();
  const add = (key: string, hour: number) => hours.set(key, (hours.get(key) ?? new Set()).add(hour));
  for (const change of changes) {
    const p = change.partition;
    const spans =
      change.starts === 'all' ? [{ from: new Date(dayStart(p.date)), to: new Date(dayStart(p.date) + DAY_MS) }] : change.starts;
    for (const span of spans) {
      for (const start of hoursReached(span, spec.contextMs)) {
        const key = partitionKey({ ...p, date: dateOf(start) });
        if (!withFlows.has(key)) continue;
        // A partition never derived stays so (its raw records answer exactly) unless this commit changed it: then
        // it is derived whole, below.
        if (!live.has(key) && !changed.has(key)) continue;
        add(key, (start - dayStart(dateOf(start))) / HOUR_MS);
      }
    }
  }
  const retired: ManifestFile[] = [];
  for (const key of changed) {
    if (!withFlows.has(key)) retired.push(...(live.get(key) ?? []));
    else if (!live.has(key)) for (let h = 0; h < 24; h++) add(key, h);
  }
  // A committed file holding several hours is replaced whole: re-derive all its hours when one of them changes.
  for (const [key, set] of hours) {
    const files = live.get(key) ?? [];
    let grew = true;
    while (grew) {
      grew = false;
      for (const f of files) {
        const [a, b] = derivedFileHours(f.path);
        if (retired.includes(f) || ![...set].some((h) => h >= a && h <= b)) continue;
        retired.push(f);
        for (let h = a; h <= b; h++) {
          if (set.has(h)) continue;
          set.add(h);
          grew = true;
        }
      }
    }
  }
  return { hours, retired };
}

/** Records of `files` starting in hour `h` widened by `contextMs`, if each file's records spread evenly over its range. */
function estimatedRecords(
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
 * records (estimated) unless one hour alone holds more. Fewer statements matter: planning a
 * derivation costs tens of milliseconds whatever it reads.
 */
function runsOf(hours: readonly number[], records: (h: number) => number): number[][] {
  const runs: number[][] = [];
  let run: number[] = [];
  let total = 0;
  for (const h of hours) {
    const n = records(h);
    if (run.length > 0 && (h - run[0]! >= 24 || total + n > RUN_RECORDS)) {
      runs.push(run);
      [run, total] = [[], 0];
    }
    run.push(h);
    total += n;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

// COPY's target cannot be a bound parameter; the path is ours (root or staging + a uuid), quoted as a literal.
function copyTo(select: SqlFragment, path: string): SqlFragment {
  return sql`COPY (${select}) TO ${raw(`'${path.replaceAll("'", "''")}'`)} (FORMAT parquet, COMPRESSION zstd)`;
}

/** Derives every derived table for the hours a commit changed; see the module comment. */
export async function deriveTables(opts: DeriveTablesOptions): Promise<DeriveTablesResult> {
  const flows = opts.files.filter((f) => f.table === 'flows');
  const derived = opts.files.filter((f) => f.table !== 'flows');
  const locate = opts.locate ?? ((f: ManifestFile) => join(opts.root, f.path));
  // The flows files a derived hour may read: those of the changed days and their neighbours (an hour's window reaches
  // at most into the next or previous day), located once.
  const shifted = (p: PartitionKey, days: number) => partitionKey({ ...p, date: dateOf(dayStart(p.date) + days * DAY_MS) });
  const near = new Set<string>();
  for (const { partition: p } of opts.changes) for (const d of [-1, 0, 1]) near.add(shifted(p, d));
  const located = new Map<ManifestFile, string>();
  const locateAll = async (keys: ReadonlySet<string>) => {
    const files = flows.filter((f) => keys.has(partitionKey(f)));
    for (const f of files) if (!located.has(f)) located.set(f, await locate(f));
    return { files, ...(await fileStats(opts, files.map((f) => located.get(f)!))) };
  };
  const { files: changedNear, undirected } = await locateAll(near);
  // Days holding records without flow-direction judge own addresses from the whole day (normalized-records-query.ts):
  // a change to such a day, or one that adds or removes such records, re-derives all its hours' connection rows.
  const undirectedDays = new Set(changedNear.filter((f) => undirected.has(located.get(f)!)).map(partitionKey));
  const connectionChanges = opts.changes.map((c): FlowChange =>
    c.undirected || undirectedDays.has(partitionKey(c.partition)) ? { ...c, starts: 'all' } : c,
  );
  const plans = DERIVED_TABLES.map((spec) => ({
    spec,
    ...planTable(spec, flows, derived, spec.contextMs > 0 ? connectionChanges : opts.changes),
  }));
  // Planned hours are within a day of a change, but a neighbour day re-derived whole (its merged or older file held a
  // changed hour) reads into the day beyond: read every day the planned hours' widened spans reach.
  const reached = new Set(near);
  for (const { spec, hours } of plans) {
    for (const [key, set] of hours) {
      const p = flows.find((f) => partitionKey(f) === key)!;
      for (const h of set) {
        const start = dayStart(p.date) + h * HOUR_MS;
        reached.add(partitionKey({ ...p, date: dateOf(start - spec.contextMs) }));
        reached.add(partitionKey({ ...p, date: dateOf(start + HOUR_MS + spec.contextMs - 1) }));
      }
    }
  }
  const { files: candidates, ranges } = await locateAll(reached);

  const retiredPaths = new Set(plans.flatMap((p) => p.retired.map((f) => f.path)));
  const written: DerivedFile[] = [];
  const empty = new Map<string, DerivedFile & { absolute: string }>();
  let hoursDerived = 0;
  const c = await opts.db.connect();
  try {
    for (const { spec, hours } of plans) {
      // Epoch hour numbers to derive, per account/region: one statement derives a run of them (flow-source.ts units).
      const byScope = new Map<string, number[]>();
      for (const [key, set] of hours) {
        const date = key.slice(key.lastIndexOf('/') + 1);
        const scope = key.slice(0, key.lastIndexOf('/'));
        for (const h of set) byScope.set(scope, [...(byScope.get(scope) ?? []), dayStart(date) / HOUR_MS + h]);
      }
      for (const [scope, all] of [...byScope].sort(([x], [y]) => x.localeCompare(y))) {
        const files = candidates.filter((f) => scopeOf(f) === scope);
        const reading = (h: number) => {
          const [from, to] = [h * HOUR_MS - spec.contextMs, (h + 1) * HOUR_MS + spec.contextMs];
          return files.filter((f) => {
            const r = ranges.get(located.get(f)!);
            return !r || (r.min < to && r.max >= from);
          });
        };
        // No record starts in an hour's widened span: it has no rows, and nothing to run. Unless the partition would be
        // left without a file of the table (its last hours with rows are gone): its first hour then writes the empty
        // file that says it is derived.
        const wanted = [...new Set(all)].sort((x, y) => x - y).filter((h) => reading(h).length > 0);
        for (const [key, set] of hours) {
          if (key.slice(0, key.lastIndexOf('/')) !== scope) continue;
          const day = dayStart(key.slice(key.lastIndexOf('/') + 1)) / HOUR_MS;
          const planned = [...set].map((h) => day + h);
          const left = derived.some((f) => f.table === spec.table && partitionKey(f) === key && !retiredPaths.has(f.path));
          if (!left && !planned.some((h) => wanted.includes(h))) wanted.push(Math.min(...planned));
        }
        wanted.sort((x, y) => x - y);
        for (const run of runsOf(wanted, (h) => estimatedRecords(reading(h), ranges, located, h, spec.contextMs))) {
          hoursDerived += run.length;
          const [from, to] = [run[0]! * HOUR_MS - spec.contextMs, (run[run.length - 1]! + 1) * HOUR_MS + spec.contextMs];
          const inputs = [...new Set(run.flatMap(reading))];
          const runDays = new Set(run.map((h) => `${scope}/${dateOf(h * HOUR_MS)}`));
          const ownAddressFiles = files.filter((f) => runDays.has(partitionKey(f)) && undirectedDays.has(partitionKey(f)));
          const source = {
            files: inputs.map((f) => located.get(f)!),
            where: sql`start_time >= ${new Date(from)} AND start_time < ${new Date(to)}`,
            stream: run.reduce((n, h) => n + estimatedRecords(reading(h), ranges, located, h, spec.contextMs), 0) > STREAM_ABOVE_RECORDS,
            units: { hours: run, contextSeconds: spec.contextMs / 1000, ownAddressFiles: ownAddressFiles.map((f) => located.get(f)!) },
          };
          const q = build(`${spec.table}.derive`, sql`CREATE OR REPLACE TEMP TABLE derived_rows AS ${spec.select(source)}`);
          await runBound(c, q);
          for (const h of run) {
            const date = dateOf(h * HOUR_MS);
            const [accountId, region] = [scope.slice(0, scope.indexOf('/')), scope.slice(scope.indexOf('/') + 1)];
            const hour = (h * HOUR_MS - dayStart(date)) / HOUR_MS;
            const path = `${partitionDir(spec.table, accountId, region, date)}/${derivedFileName(hour, hour)}`;
            const absolute = opts.stagingDir ? join(opts.stagingDir, `${spec.table}-${path.split('/').pop()!}`) : join(opts.root, path);
            await mkdir(dirname(absolute), { recursive: true });
            // The temp table keeps the SELECT's order, and a filtered scan keeps the table's: the file is in row order.
            const copied = await runBound(c, build(`${spec.table}.write`, copyTo(sql`SELECT * EXCLUDE (unit) FROM derived_rows WHERE unit = ${h}`, absolute)));
            const count = Number(copied.getRows()[0]?.[0] ?? 0);
            const file = { path, table: spec.table, accountId, region, date, rows: count, bytes: (await stat(absolute)).size };
            const out = opts.stagingDir ? { ...file, stagedPath: absolute } : file;
            const key = `${spec.table}:${partitionKey(file)}`;
            if (count > 0) written.push(out);
            else if (!empty.has(key)) empty.set(key, { ...out, absolute });
            else await rm(absolute, { force: true });
          }
        }
      }
    }
    await c.run('DROP TABLE IF EXISTS derived_rows');
  } finally {
    c.closeSync();
  }
  const retired = plans.flatMap((p) => p.retired);
  // An hour without rows has no file, but a derived partition keeps at least one (empty) file: its presence is what
  // tells readers the partition is derived.
  const gone = new Set(retired.map((f) => f.path));
  const remaining = new Set([...derived.filter((f) => !gone.has(f.path)), ...written].map((f) => `${f.table}:${partitionKey(f)}`));
  const files: DerivedFile[] = [...written];
  for (const [key, f] of empty) {
    const { absolute, ...file } = f;
    if (remaining.has(key)) await rm(absolute, { force: true });
    else files.push(file);
  }
  return { files, retired, hoursDerived };
}

/** Every hour of each partition, as a change (a partition derived on request, or in tests). */
export function wholePartitions(partitions: readonly PartitionKey[]): FlowChange[] {
  return partitions.map((p) => ({ partition: { accountId: p.accountId, region: p.region, date: p.date }, starts: 'all' }));
}

/** The manifest file list after a derivation: the retired derived files swapped for the new ones. */
export function applyDerivedFiles(files: readonly ManifestFile[], result: DeriveTablesResult): ManifestFile[] {
  const gone = new Set(result.retired.map((f) => f.path));
  return [...files.filter((f) => !gone.has(f.path)), ...result.files.map(({ stagedPath: _staged, ...f }) => f)];
}

/**
 * The derived files a commit that changes `changes` without deriving (`flowql ingest --no-derive`) makes stale: every
 * derived file of the changed partitions and of the neighbouring days, so derived tables stay exact or absent.
 */
export function staleDerivedFiles(files: readonly ManifestFile[], changes: readonly FlowChange[]): ManifestFile[] {
  const stale = new Set<string>();
  for (const { partition: p } of changes) for (const d of [-1, 0, 1]) stale.add(partitionKey({ ...p, date: dateOf(dayStart(p.date) + d * DAY_MS) }));
  return files.filter((f) => f.table !== 'flows' && stale.has(partitionKey(f)));
}
