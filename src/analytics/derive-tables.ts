/**
 * Derives the `handshakes/` and `edges/` tables (issue 5) for what an ingest commit changed, so API queries over long
 * ranges read small pre-paired tables instead of pairing raw records every time; and `flows_hourly/`, the flows summed
 * per hour that aggregates read instead of every record (src/store/queries/flows-hourly-query.ts).
 *
 * The unit of derivation is one UTC hour of one scope (derived-hours.ts `scopeOfTable`): for the connection tables an
 * account in every region (the org tables: every account and region), so a connection between regions pairs once;
 * for flows_hourly one (account, region, date) partition. A derived file holds the rows of a range of hours of one
 * partition's day, each connection row filed under one region (connection-placement.ts), and is named by them
 * (`part-derived-hAA-hBB-<id>.parquet`, or `part-derived-hHH-<id>` for one hour): a derivation writes the older hours
 * of a run together and the newest ones, still receiving deliveries, one file each (derived-run-writer.ts runFiles);
 * `flowql compact` merges a closed day's into one. The rows of an hour are computed from the scope's records starting
 * in that hour widened by the table's context on each side (DERIVE_CONTEXT_SECONDS for the connection tables, whose
 * pairing and direction look around a record; none for flows_hourly) and from nothing else. So:
 * - a commit re-derives only the hours whose widened span holds the start of a record it added or removed: the
 *   records' own hours and at most one neighbour each (across midnight too), never whole days. A committed file
 *   holding such an hour is retired, and its rows of the other hours are copied into new files as they are
 *   (derived-hours.ts CarriedFile): they are the same function of the same records;
 * - an hour derived in any commit, in any order of deliveries, is the same function of the same records: incremental
 *   and from-scratch derivations write the same rows in the same order (test/integration/derive-incremental.test.ts).
 *
 * A partition's derived table is either absent (readers fall back to the raw flows, connection-source.ts) or exact
 * for every hour: a scope derived for the first time (or one with a partition not derived yet) is derived whole, and
 * an hour without rows has no rows in any file (a partition without any row keeps one empty file, to say it was
 * derived). The new files and the files they replace are committed in the same manifest swap as the flows, so a
 * reader never sees an hour twice. The same swap retires the daily rollups (written by `flowql compact`) of every
 * partition whose hourly rows change.
 */
import { join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { ALL_ACCOUNTS, isOrgTable, partitionKey, type ManifestFile, type TableName } from '../store/layout.ts';
import { raw, sql } from '../store/sql.ts';
import { CONNECTION_RUN_TABLES } from './connection-run-query.ts';
import { estimatedRecords, fileStats, openHoursFrom, runsOf, type StartRange } from './derive-inputs.ts';
import {
  HOUR_MS,
  dailyFilesRetiredBy,
  dateOf,
  dayStart,
  planTable,
  scopeOfTable,
  scopePartition,
  type DeriveScope,
  type FlowChange,
  type PartitionKey,
  type PlannedPartition,
} from './derived-hours.ts';
import { DERIVED_TABLES, SHARED_RUN_RECORDS, sharingGroups } from './derived-table-specs.ts';
import {
  carryRows,
  deriveRun,
  prepareRun,
  rowsTable,
  withoutPath,
  writeDerivedFile,
  type DerivedFile,
  type WrittenFile,
} from './derived-run-writer.ts';

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
  /** Largest run whose connection tables derive in one statement (default SHARED_RUN_RECORDS; tests pass 0 for none). */
  readonly sharedRunRecords?: number;
  /**
   * Set when the commit only adds records (it retires no flows file): the flows files holding all of them. An additive
   * table then sums them into its committed rows of a derived partition instead of summing every record of the hours.
   */
  readonly addedFlows?: readonly string[];
}

export type { DerivedFile } from './derived-run-writer.ts';

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

/** Derives every derived table for the hours a commit changed; see the module comment. */
export async function deriveTables(opts: DeriveTablesOptions): Promise<DeriveTablesResult> {
  const flows = opts.files.filter((f) => f.table === 'flows');
  const derived = opts.files.filter((f) => f.table !== 'flows');
  const locate = opts.locate ?? ((f: ManifestFile) => join(opts.root, f.path));
  // The org tables exist where more than one account logs: with one account its own tables are the whole answer.
  const orgWanted = new Set(flows.map((f) => f.accountId)).size > 1;
  const scopeKeys = (p: PartitionKey): string[] =>
    (['partition', 'account', 'org'] as const).map((scope) => partitionKey(scopePartition(p, scope)));
  // The flows files of the changed days' scopes, which say whether a change must re-derive its whole day (below);
  // the neighbour days are read only where planned hours reach them (a delivery in the middle of a day reads its day's
  // files alone: their statistics cost about 1 ms a file, read at every delivery).
  const changedDays = new Set<string>();
  for (const { partition: p } of opts.changes) for (const k of scopeKeys(p)) changedDays.add(k);
  // Located and described once each: the second call (the days planned hours reach) adds only the days beyond.
  const located = new Map<ManifestFile, string>();
  const ranges = new Map<string, StartRange>();
  const undirected = new Set<string>();
  const locateAll = async (keys: ReadonlySet<string>, scopes: readonly DeriveScope[]) => {
    const files = flows.filter((f) => scopes.some((scope) => keys.has(partitionKey(scopePartition(f, scope)))));
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
  const tables = DERIVED_TABLES.filter(
    (spec) => (!opts.tables || opts.tables.includes(spec.table)) && (orgWanted || !isOrgTable(spec.table)),
  );
  const scopesRead = [...new Set(tables.map((spec) => scopeOfTable(spec.table)))];
  const changedFiles = await locateAll(changedDays, scopesRead);
  // Days holding records without flow-direction judge own addresses from the whole day of the scope
  // (normalized-records-query.ts): a change to such a day, or one that adds or removes such records, re-derives all
  // its hours' connection rows.
  const undirectedFiles = changedFiles.filter((f) => undirected.has(located.get(f)!));
  const plans = tables.map((spec) => {
    const scope = scopeOfTable(spec.table);
    const key = (p: PartitionKey) => partitionKey(scopePartition(p, scope));
    const undirectedDays = new Set(undirectedFiles.map(key));
    const changes = opts.changes.map((c): FlowChange => {
      const partition = scopePartition(c.partition, scope);
      const whole = spec.contextMs > 0 && (c.undirected || undirectedDays.has(partitionKey(partition)));
      return whole ? { ...c, partition, starts: 'all' } : { ...c, partition };
    });
    // Planned by scope key; the committed files are mapped to their scope's key too, and mapped back when retired.
    const own = derived.filter((f) => f.table === spec.table);
    const byPath = new Map(own.map((f) => [f.path, f]));
    const partitionsOf = new Map<string, Set<string>>();
    for (const f of flows) {
      const p = scope === 'org' ? { ...f, accountId: ALL_ACCOUNTS } : f;
      partitionsOf.set(key(f), (partitionsOf.get(key(f)) ?? new Set()).add(partitionKey(p)));
    }
    const withFiles = new Set(own.map((f) => partitionKey(f)));
    const complete = (k: string) => [...(partitionsOf.get(k) ?? [])].every((p) => withFiles.has(p));
    const plan = planTable(
      spec,
      flows.map((f) => ({ ...f, ...scopePartition(f, scope) })),
      own.map((f) => ({ ...f, ...scopePartition(f, scope) })),
      changes,
      complete,
    );
    const retired = plan.retired.map((f) => byPath.get(f.path)!);
    const carried = plan.carried.map((cf) => ({ ...cf, file: byPath.get(cf.file.path)! }));
    return { spec, scope, hours: plan.hours, retired, carried, partitionsOf, complete };
  });
  // Planned hours are within a day of a change, but a day derived whole (by the rule above, or for the first time)
  // plans its neighbours' edge hours, which read into the day beyond: read every day the planned hours' spans reach.
  const reached = new Set(changedDays);
  for (const { spec, hours } of plans) {
    for (const { partition: p, hours: set } of hours.values()) {
      for (const h of set) {
        const start = dayStart(p.date) + h * HOUR_MS;
        reached.add(partitionKey({ ...p, date: dateOf(start - spec.contextMs) }));
        reached.add(partitionKey({ ...p, date: dateOf(start + HOUR_MS + spec.contextMs - 1) }));
      }
    }
  }
  const candidates = await locateAll(reached, scopesRead);

  const retiredPaths = new Set(plans.flatMap((p) => p.retired.map((f) => f.path)));
  const added = new Set(opts.addedFlows ?? []);
  // An additive table's run in a derived partition, when the commit only adds records: the committed files it retires
  // there (which hold the run's hours) and the added flows files among the run's inputs.
  const additionsOf = async (retired: readonly ManifestFile[], inputs: readonly ManifestFile[], scopeName: string) => ({
    committed: await Promise.all(retired.filter((f) => scopeOf(f) === scopeName).map(async (f) => locate(f))),
    added: inputs.filter((f) => added.has(f.path)).map((f) => located.get(f)!),
  });
  const written: WrittenFile[] = [];
  let hoursDerived = 0;
  const c = await opts.db.connect();
  try {
    for (const group of sharingGroups(plans)) {
      // The tables of a group have the same scope, context and planned hours (sharingGroups), so the same runs.
      const { spec: lead, scope, hours, partitionsOf, complete, retired } = group[0]!;
      const keyOf = (f: ManifestFile) => partitionKey(scopePartition(f, scope));
      // Epoch hour numbers to derive, per scope: one statement derives a run of them (flow-source.ts units).
      const byScope = new Map<string, PlannedPartition[]>();
      for (const planned of hours.values())
        byScope.set(scopeOf(planned.partition), [...(byScope.get(scopeOf(planned.partition)) ?? []), planned]);
      for (const [scopeName, partitions] of [...byScope].sort(([x], [y]) => x.localeCompare(y))) {
        const epochHours = (p: PlannedPartition) => [...p.hours].map((h) => dayStart(p.partition.date) / HOUR_MS + h);
        const files = candidates.filter((f) => scopeOf(scopePartition(f, scope)) === scopeName);
        const reading = (h: number) => {
          const [from, to] = [h * HOUR_MS - lead.contextMs, (h + 1) * HOUR_MS + lead.contextMs];
          return files.filter((f) => {
            const r = ranges.get(located.get(f)!);
            return !r || (r.min < to && r.max >= from);
          });
        };
        // No record starts in an hour's widened span: it has no rows, and nothing to run. One run always happens, so
        // the partitions left without a file can be given an empty one from its (typed) rows below.
        const planned = new Set(partitions.flatMap(epochHours));
        const wanted = [...planned].filter((h) => reading(h).length > 0);
        if (wanted.length === 0) wanted.push(Math.min(...partitions.flatMap(epochHours)));
        wanted.sort((x, y) => x - y);
        const scopeKey = partitions[0]!.partition;
        const openFrom = openHoursFrom(files.map((f) => ranges.get(located.get(f)!) ?? null));
        for (const { hours: run, records } of runsOf(wanted, (h) =>
          estimatedRecords(reading(h), ranges, located, h, lead.contextMs),
        )) {
          hoursDerived += run.length * group.length;
          const [from, to] = [
            run[0]! * HOUR_MS - lead.contextMs,
            (run[run.length - 1]! + 1) * HOUR_MS + lead.contextMs,
          ];
          const inputs = [...new Set(run.flatMap(reading))];
          const runDays = new Set(run.map((h) => `${scopeName}/${dateOf(h * HOUR_MS)}`));
          // Every file of the run's days was located and described (the days planned hours reach).
          const ownAddressFiles = files.filter((f) => runDays.has(keyOf(f)) && undirected.has(located.get(f)!));
          // Every partition the run's hours are in must be derived already: its committed rows count every record
          // but the added ones.
          const derivedBefore = run.every((h) => complete(partitionKey({ ...scopeKey, date: dateOf(h * HOUR_MS) })));
          const additions =
            lead.additive && opts.addedFlows && group.length === 1 && derivedBefore
              ? await additionsOf(retired, inputs, scopeName)
              : undefined;
          const source = {
            additions,
            files: inputs.map((f) => located.get(f)!),
            where: sql`start_time >= ${new Date(from)} AND start_time < ${new Date(to)}`,
            stream: records > STREAM_ABOVE_RECORDS,
            units: {
              hours: run,
              contextSeconds: lead.contextMs / 1000,
              ownAddressFiles: ownAddressFiles.map((f) => located.get(f)!),
            },
          };
          const shared = lead.shared !== undefined && records <= (opts.sharedRunRecords ?? SHARED_RUN_RECORDS);
          if (shared) await prepareRun(c, lead.shared!.prepare, source);
          for (const { spec } of group)
            written.push(...(await deriveRun(c, opts, spec, scopeKey, source, shared, { planned, openFrom })));
        }
        // The rows of the hours not re-derived in the files retired above, copied as they are.
        for (const { spec, carried } of group) {
          const ours = carried.filter((cf) => scopeOf(scopePartition(cf.file, scope)) === scopeName);
          written.push(...(await carryRows(c, opts, ours, locate, spec.hourColumn)));
        }
        // A derived partition keeps at least one file, empty if it has no rows: its presence is what tells readers
        // the partition is derived. A table's rows table holds this scope's last run, so its columns type the file.
        for (const { spec } of group) {
          const have = new Set([
            ...derived.filter((f) => f.table === spec.table && !retiredPaths.has(f.path)).map(partitionKey),
            ...written.filter((f) => f.table === spec.table).map(partitionKey),
          ]);
          for (const planned of partitions) {
            for (const k of partitionsOf.get(partitionKey(planned.partition)) ?? []) {
              if (have.has(k)) continue;
              const [account, region, date] = k.split('/') as [string, string, string];
              const none = sql`SELECT * EXCLUDE (unit, place_region) FROM ${raw(rowsTable(spec))} WHERE FALSE`;
              written.push(
                await writeDerivedFile(c, opts, spec.table, { accountId: account, region, date }, [0, 0], none),
              );
            }
          }
        }
      }
    }
    for (const table of [...plans.map((p) => rowsTable(p.spec)), ...Object.values(CONNECTION_RUN_TABLES)])
      await c.run(`DROP TABLE IF EXISTS ${table}`);
  } finally {
    c.closeSync();
  }
  // Once a single account is left (the others' objects replaced away), every org file is retired with nothing in its
  // place: that account's own tables are the whole answer.
  const orphans = orgWanted ? [] : derived.filter((f) => isOrgTable(f.table));
  // Daily rollups are never derived here: a day whose hourly rows change loses them until `flowql compact`.
  const daily = dailyFilesRetiredBy(
    plans.map((p) => ({ table: p.spec.table, hours: p.hours, retired: p.retired })),
    derived,
  );
  const retired = [
    ...new Map([...plans.flatMap((p) => p.retired), ...orphans, ...daily].map((f) => [f.path, f])).values(),
  ];
  return { files: written.map(withoutPath), retired, hoursDerived };
}

/** The manifest file list after a derivation: the retired derived files swapped for the new ones. */
export function applyDerivedFiles(files: readonly ManifestFile[], result: DeriveTablesResult): ManifestFile[] {
  const gone = new Set(result.retired.map((f) => f.path));
  return [...files.filter((f) => !gone.has(f.path)), ...result.files.map(({ stagedPath: _staged, ...f }) => f)];
}
