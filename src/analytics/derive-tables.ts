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
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  ALL_ACCOUNTS,
  isOrgTable,
  partitionDir,
  partitionKey,
  type ManifestFile,
  type TableName,
} from '../store/layout.ts';
import { runBound } from '../store/query-runner.ts';
import { build, raw, sql, type SqlFragment } from '../store/sql.ts';
import { hourlyRollupFromFlowsSql } from '../store/queries/flows-hourly-query.ts';
import { DERIVE_CONTEXT_SECONDS } from './connection-rules.ts';
import { estimatedRecords, fileStats, runsOf, type StartRange } from './derive-inputs.ts';
import {
  HOUR_MS,
  dateOf,
  dayStart,
  derivedFileName,
  orgPartition,
  planTable,
  shiftedPartition,
  type FlowChange,
  type PlannedPartition,
} from './derived-hours.ts';
import { edgeRowsFromFlowsSql } from './edge-rows-query.ts';
import type { FlowSource } from './flow-source.ts';
import { handshakesFromFlowsSql } from './handshake-query.ts';

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
  /** Derive only these tables (default: every derived table); `flowql derive` writing only missing org files. */
  readonly tables?: readonly TableName[];
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

/**
 * Runs of more records (estimated, counting each once per hour that reads it) are read as a streamed source
 * (flow-source.ts). Held in memory, a run costs about 1.2 KB per record during a statement; streamed, every use
 * re-reads the columns it needs, which costs CPU on small sources (+25% on 3,000 records) but less than allocating on
 * large ones: bench:ingest's 400,000 records took 12.0 CPU s and 0.76 GiB with runs of up to 250,000 records
 * streamed, 12.9 s and 0.83 GiB held.
 */
const STREAM_ABOVE_RECORDS = 50_000;

const scopeOf = (f: { readonly accountId: string; readonly region: string }): string => `${f.accountId}/${f.region}`;

/** One derived table: how far around an hour its rows look, and the SELECT of its rows led by their `unit`. */
interface DerivedTableSpec {
  readonly table: TableName;
  readonly contextMs: number;
  readonly select: (source: FlowSource & { readonly units: NonNullable<FlowSource['units']> }) => SqlFragment;
}

const CONNECTION_CONTEXT_MS = DERIVE_CONTEXT_SECONDS * 1000;

/**
 * Every derived table. The org tables are the same SQL over the records of every account of a region (the connection
 * SQL pairs, orients and resolves whatever records a unit holds; it never groups by account), planned per region and
 * date (orgPartition) and written only where more than one account logs in the region.
 */
const DERIVED_TABLES: readonly DerivedTableSpec[] = [
  { table: 'handshakes', contextMs: CONNECTION_CONTEXT_MS, select: (s) => handshakesFromFlowsSql(s) },
  { table: 'edges', contextMs: CONNECTION_CONTEXT_MS, select: (s) => edgeRowsFromFlowsSql(s) },
  { table: 'flows_hourly', contextMs: 0, select: (s) => hourlyRollupFromFlowsSql(s.files, s.units!.hours) },
  { table: 'org_handshakes', contextMs: CONNECTION_CONTEXT_MS, select: (s) => handshakesFromFlowsSql(s) },
  { table: 'org_edges', contextMs: CONNECTION_CONTEXT_MS, select: (s) => edgeRowsFromFlowsSql(s) },
];

/** Regions where more than one account logs: the org tables are derived there only. */
function sharedRegions(flows: readonly ManifestFile[]): Set<string> {
  const accounts = new Map<string, Set<string>>();
  for (const f of flows) accounts.set(f.region, (accounts.get(f.region) ?? new Set()).add(f.accountId));
  return new Set([...accounts].filter(([, a]) => a.size > 1).map(([region]) => region));
}

// COPY's target cannot be a bound parameter; the path is ours (root or staging + a uuid), quoted as a literal.
function copyTo(select: SqlFragment, path: string): SqlFragment {
  return sql`COPY (${select}) TO ${raw(`'${path.replaceAll("'", "''")}'`)} (FORMAT parquet, COMPRESSION zstd)`;
}

/** A derived hour's file as written, and where (staging or the warehouse). */
type WrittenHour = DerivedFile & { readonly absolute: string };
const withoutPath = ({ absolute: _absolute, ...file }: WrittenHour): DerivedFile => file;

/**
 * Derives one run of hours of one account/region into a temp table with one statement, then writes each hour's rows
 * to its own file. The temp table keeps the SELECT's order, and a filtered scan keeps the table's: files are in row
 * order.
 */
async function deriveRun(
  c: DuckDBConnection,
  opts: DeriveTablesOptions,
  spec: DerivedTableSpec,
  { accountId, region }: { readonly accountId: string; readonly region: string },
  source: FlowSource & { readonly units: NonNullable<FlowSource['units']> },
): Promise<WrittenHour[]> {
  await runBound(
    c,
    build(`${spec.table}.derive`, sql`CREATE OR REPLACE TEMP TABLE derived_rows AS ${spec.select(source)}`),
  );
  const out: WrittenHour[] = [];
  for (const h of source.units.hours) {
    const date = dateOf(h * HOUR_MS);
    const hour = (h * HOUR_MS - dayStart(date)) / HOUR_MS;
    const path = `${partitionDir(spec.table, accountId, region, date)}/${derivedFileName(hour, hour)}`;
    const absolute = opts.stagingDir
      ? join(opts.stagingDir, `${spec.table}-${path.split('/').pop()!}`)
      : join(opts.root, path);
    await mkdir(dirname(absolute), { recursive: true });
    const copied = await runBound(
      c,
      build(`${spec.table}.write`, copyTo(sql`SELECT * EXCLUDE (unit) FROM derived_rows WHERE unit = ${h}`, absolute)),
    );
    const rows = Number(copied.getRows()[0]?.[0] ?? 0);
    const file = {
      path,
      table: spec.table,
      accountId,
      region,
      date,
      rows,
      bytes: (await stat(absolute)).size,
      absolute,
    };
    out.push(opts.stagingDir ? { ...file, stagedPath: absolute } : file);
  }
  return out;
}

/** Derives every derived table for the hours a commit changed; see the module comment. */
export async function deriveTables(opts: DeriveTablesOptions): Promise<DeriveTablesResult> {
  const flows = opts.files.filter((f) => f.table === 'flows');
  const derived = opts.files.filter((f) => f.table !== 'flows');
  const locate = opts.locate ?? ((f: ManifestFile) => join(opts.root, f.path));
  // The flows files a derived hour may read: those of the changed days and their neighbours (an hour's window reaches
  // at most into the next or previous day), located once.
  const near = new Set<string>();
  for (const { partition: p } of opts.changes)
    for (const d of [-1, 0, 1])
      near.add(partitionKey(shiftedPartition(p, d))).add(partitionKey(orgPartition(shiftedPartition(p, d))));
  const shared = sharedRegions(flows);
  // A flows file is read for its own partition's hours, and for its region's org hours where accounts share it.
  const orgKey = (f: ManifestFile): string | null => (shared.has(f.region) ? partitionKey(orgPartition(f)) : null);
  // Located and described once each: the second call (the days planned hours reach) adds only the days beyond.
  const located = new Map<ManifestFile, string>();
  const ranges = new Map<string, StartRange>();
  const undirected = new Set<string>();
  const locateAll = async (keys: ReadonlySet<string>) => {
    const files = flows.filter((f) => keys.has(partitionKey(f)) || keys.has(orgKey(f) ?? ''));
    const fresh = files.filter((f) => !located.has(f));
    for (const f of fresh) located.set(f, await locate(f));
    const stats = await fileStats(
      opts.db,
      fresh.map((f) => located.get(f)!),
    );
    for (const [path, range] of stats.ranges) ranges.set(path, range);
    for (const path of stats.undirected) undirected.add(path);
    return files;
  };
  const changedNear = await locateAll(near);
  // Days holding records without flow-direction judge own addresses from the whole day (normalized-records-query.ts):
  // a change to such a day, or one that adds or removes such records, re-derives all its hours' connection rows.
  const undirectedDays = new Set(changedNear.filter((f) => undirected.has(located.get(f)!)).map(partitionKey));
  const connectionChanges = opts.changes.map((c): FlowChange =>
    c.undirected || undirectedDays.has(partitionKey(c.partition)) ? { ...c, starts: 'all' } : c,
  );
  // The org tables see each account's change as a change of its region's org partition; a day of the region holding
  // records without flow-direction in any account is re-derived whole, as for one account.
  const undirectedOrgDays = new Set(
    [...undirectedDays].map((k) => `${ALL_ACCOUNTS}/${k.split('/').slice(1).join('/')}`),
  );
  // Not only shared regions': a region no longer shared (its second account's objects replaced away) has its org
  // files retired by planTable, which counts only shared regions as having flows.
  const orgChanges = connectionChanges.map((c): FlowChange => {
    const partition = orgPartition(c.partition);
    return undirectedOrgDays.has(partitionKey(partition)) ? { ...c, partition, starts: 'all' } : { ...c, partition };
  });
  const orgFlows = flows.filter((f) => shared.has(f.region)).map((f) => ({ ...f, accountId: ALL_ACCOUNTS }));
  const plans = DERIVED_TABLES.filter((spec) => !opts.tables || opts.tables.includes(spec.table)).map((spec) => ({
    spec,
    ...(isOrgTable(spec.table)
      ? planTable(spec, orgFlows, derived, orgChanges)
      : planTable(spec, flows, derived, spec.contextMs > 0 ? connectionChanges : opts.changes)),
  }));
  // Planned hours are within a day of a change, but a neighbour day re-derived whole (its merged or older file held a
  // changed hour) reads into the day beyond: read every day the planned hours' widened spans reach.
  const reached = new Set(near);
  for (const { spec, hours } of plans) {
    for (const { partition: p, hours: set } of hours.values()) {
      for (const h of set) {
        const start = dayStart(p.date) + h * HOUR_MS;
        reached.add(partitionKey({ ...p, date: dateOf(start - spec.contextMs) }));
        reached.add(partitionKey({ ...p, date: dateOf(start + HOUR_MS + spec.contextMs - 1) }));
      }
    }
  }
  const candidates = await locateAll(reached);

  const retiredPaths = new Set(plans.flatMap((p) => p.retired.map((f) => f.path)));
  const written: DerivedFile[] = [];
  const empty = new Map<string, WrittenHour>();
  let hoursDerived = 0;
  const c = await opts.db.connect();
  try {
    for (const { spec, hours } of plans) {
      // Epoch hour numbers to derive, per account/region: one statement derives a run of them (flow-source.ts units).
      const byScope = new Map<string, PlannedPartition[]>();
      for (const planned of hours.values())
        byScope.set(scopeOf(planned.partition), [...(byScope.get(scopeOf(planned.partition)) ?? []), planned]);
      for (const [scope, partitions] of [...byScope].sort(([x], [y]) => x.localeCompare(y))) {
        const epochHours = (p: PlannedPartition) => [...p.hours].map((h) => dayStart(p.partition.date) / HOUR_MS + h);
        const org = isOrgTable(spec.table);
        // The key a flows file is planned under for this table: its own partition, or its region's org partition.
        const keyOf = (f: ManifestFile) => partitionKey(org ? orgPartition(f) : f);
        const files = candidates.filter(
          (f) => (org ? shared.has(f.region) : true) && scopeOf(org ? orgPartition(f) : f) === scope,
        );
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
        const wanted = partitions.flatMap(epochHours).filter((h) => reading(h).length > 0);
        for (const p of partitions) {
          const planned = epochHours(p);
          const key = partitionKey(p.partition);
          const left = derived.some(
            (f) => f.table === spec.table && partitionKey(f) === key && !retiredPaths.has(f.path),
          );
          if (!left && !planned.some((h) => wanted.includes(h))) wanted.push(Math.min(...planned));
        }
        wanted.sort((x, y) => x - y);
        for (const { hours: run, records } of runsOf(wanted, (h) =>
          estimatedRecords(reading(h), ranges, located, h, spec.contextMs),
        )) {
          hoursDerived += run.length;
          const [from, to] = [
            run[0]! * HOUR_MS - spec.contextMs,
            (run[run.length - 1]! + 1) * HOUR_MS + spec.contextMs,
          ];
          const inputs = [...new Set(run.flatMap(reading))];
          const runDays = new Set(run.map((h) => `${scope}/${dateOf(h * HOUR_MS)}`));
          const ownAddressFiles = files.filter((f) => runDays.has(keyOf(f)) && undirectedDays.has(partitionKey(f)));
          const source = {
            files: inputs.map((f) => located.get(f)!),
            where: sql`start_time >= ${new Date(from)} AND start_time < ${new Date(to)}`,
            stream: records > STREAM_ABOVE_RECORDS,
            units: {
              hours: run,
              contextSeconds: spec.contextMs / 1000,
              ownAddressFiles: ownAddressFiles.map((f) => located.get(f)!),
            },
          };
          for (const out of await deriveRun(c, opts, spec, partitions[0]!.partition, source)) {
            const key = `${spec.table}:${partitionKey(out)}`;
            if (out.rows > 0) written.push(withoutPath(out));
            else if (!empty.has(key)) empty.set(key, out);
            else await rm(out.absolute, { force: true });
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
  const remaining = new Set(
    [...derived.filter((f) => !gone.has(f.path)), ...written].map((f) => `${f.table}:${partitionKey(f)}`),
  );
  const files: DerivedFile[] = [...written];

  for (const [key, f] of empty) {
    if (remaining.has(key)) await rm(f.absolute, { force: true });
    else files.push(withoutPath(f));
  }
  return { files, retired, hoursDerived };
}

/** The manifest file list after a derivation: the retired derived files swapped for the new ones. */
export function applyDerivedFiles(files: readonly ManifestFile[], result: DeriveTablesResult): ManifestFile[] {
  const gone = new Set(result.retired.map((f) => f.path));
  return [...files.filter((f) => !gone.has(f.path)), ...result.files.map(({ stagedPath: _staged, ...f }) => f)];
}
