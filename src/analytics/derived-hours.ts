/**
 * The hour as the unit of derivation (derive-tables.ts): which hours a change to the flows reaches, which committed
 * derived files those hours replace, and the names that say which hours a derived file holds.
 */
import { randomUUID } from 'node:crypto';
import {
  ALL_ACCOUNTS,
  DAILY_ROLLUPS,
  isOrgTable,
  partitionKey,
  type DailyRollup,
  type ManifestFile,
  type TableName,
} from '../store/layout.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Midnight (UTC, epoch ms) of a YYYY-MM-DD date. */
export const dayStart = (date: string): number => Date.parse(`${date}T00:00:00Z`);
/** The UTC date (YYYY-MM-DD) of an instant in epoch ms. */
export const dateOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

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

/** The partition `days` days after `p` (before, when negative), of the same account and region. */
export function shiftedPartition(p: PartitionKey, days: number): PartitionKey {
  return { accountId: p.accountId, region: p.region, date: dateOf(dayStart(p.date) + days * DAY_MS) };
}

/** The hours (0-23) of one partition to derive. */
export interface PlannedPartition {
  readonly partition: PartitionKey;
  readonly hours: Set<number>;
}

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
export function hoursReached(span: TimeSpan, contextMs: number): number[] {
  const first = Math.floor((span.from.getTime() - contextMs) / HOUR_MS);
  // `to` is exclusive: the last start that can be in the span is just before it.
  const last = Math.floor((span.to.getTime() - 1 + contextMs) / HOUR_MS);
  const out: number[] = [];
  for (let h = first; h <= last; h++) out.push(h * HOUR_MS);
  return out;
}

/**
 * A committed derived file holding hours a derivation re-derives and hours it does not: retired, and its rows of the
 * hours in `keep` (inclusive runs of hours of its day, in order) copied into new files as they are (derive-tables.ts
 * `carryRows`). Those hours' records did not change, so their rows are still exact; copying them costs a scan of the
 * file, where re-deriving them cost a derivation of every hour the file holds (a day, once compacted).
 */
export interface CarriedFile {
  readonly file: ManifestFile;
  readonly keep: readonly (readonly [number, number])[];
}

/**
 * The hours of one table to derive, per partition; the committed files of that table they retire; and of those, the
 * files holding hours not re-derived, whose rows of those hours are carried into new files.
 */
export function planTable(
  spec: { readonly table: TableName; readonly contextMs: number },
  flows: readonly ManifestFile[],
  derived: readonly ManifestFile[],
  changes: readonly FlowChange[],
  complete: (key: string) => boolean = () => true,
): { hours: Map<string, PlannedPartition>; retired: ManifestFile[]; carried: CarriedFile[] } {
  const withFlows = new Set(flows.map(partitionKey));
  const files = new Map<string, ManifestFile[]>();
  for (const f of derived.filter((d) => d.table === spec.table))
    files.set(partitionKey(f), [...(files.get(partitionKey(f)) ?? []), f]);
  // A scope whose derived files do not cover every partition of it (a region that started logging) is not derived:
  // its hours are not re-derived one by one, it is derived whole when a change reaches it.
  const live = new Map([...files].filter(([key]) => complete(key)));
  const changed = new Map(changes.map((c) => [partitionKey(c.partition), c.partition]));
  const hours = new Map<string, PlannedPartition>();
  const add = (partition: PartitionKey, hour: number) => {
    const key = partitionKey(partition);
    const planned = hours.get(key) ?? { partition, hours: new Set<number>() };
    planned.hours.add(hour);
    hours.set(key, planned);
  };
  for (const change of changes) {
    const p = change.partition;
    const spans =
      change.starts === 'all'
        ? [{ from: new Date(dayStart(p.date)), to: new Date(dayStart(p.date) + DAY_MS) }]
        : change.starts;
    for (const span of spans) {
      for (const start of hoursReached(span, spec.contextMs)) {
        const reached = { accountId: p.accountId, region: p.region, date: dateOf(start) };
        const key = partitionKey(reached);
        if (!withFlows.has(key)) continue;
        // A partition never derived stays so (its raw records answer exactly) unless this commit changed it: then
        // it is derived whole, below.
        if (!live.has(key) && !changed.has(key)) continue;
        add(reached, (start - dayStart(reached.date)) / HOUR_MS);
      }
    }
  }
  const retired: ManifestFile[] = [];
  for (const [key, partition] of changed) {
    if (!withFlows.has(key)) retired.push(...(files.get(key) ?? []));
    else if (!live.has(key)) for (let h = 0; h < 24; h++) add(partition, h);
  }
  // Every committed file holding a planned hour is retired; the hours it holds that are not planned are carried.
  const carried: CarriedFile[] = [];
  for (const [key, { hours: set }] of hours) {
    for (const f of files.get(key) ?? []) {
      const [a, b] = derivedFileHours(f.path);
      if (retired.includes(f) || ![...set].some((h) => h >= a && h <= b)) continue;
      retired.push(f);
      const keep: [number, number][] = [];
      for (let h = a; h <= b; h++) {
        if (set.has(h)) continue;
        const last = keep[keep.length - 1];
        if (last && last[1] === h - 1) last[1] = h;
        else keep.push([h, h]);
      }
      if (keep.length > 0) carried.push({ file: f, keep });
    }
  }
  return { hours, retired, carried };
}

/** Every hour of each partition, as a change (a partition derived on request, or in tests). */
export function wholePartitions(partitions: readonly PartitionKey[]): FlowChange[] {
  return partitions.map((p) => ({
    partition: { accountId: p.accountId, region: p.region, date: p.date },
    starts: 'all',
  }));
}

/**
 * Whose records a derived table's rows are a function of, for one date: `partition`, its own account/region
 * partition's (flows_hourly sums records, it pairs nothing); `account`, every region of the account's (a connection
 * between two regions of an account is one connection, connection-placement.ts); `org`, every account's in every
 * region (the org tables).
 */
export type DeriveScope = 'partition' | 'account' | 'org';

/** The region of a scope key that spans every region (never a valid region name). */
export const ALL_REGIONS = '*';

/** The key of the scope a partition's records are derived in. */
export function scopePartition(p: PartitionKey, scope: DeriveScope): PartitionKey {
  if (scope === 'partition') return { accountId: p.accountId, region: p.region, date: p.date };
  return { accountId: scope === 'org' ? ALL_ACCOUNTS : p.accountId, region: ALL_REGIONS, date: p.date };
}

/** The scope of a derived table. */
export function scopeOfTable(table: TableName): DeriveScope {
  if (isOrgTable(table)) return 'org';
  return table === 'flows_hourly' || table === 'flows_daily' ? 'partition' : 'account';
}

/**
 * The derived files a commit that changes `changes` without deriving (`flowql ingest --no-derive`) makes stale: every
 * derived file whose scope (above) holds a changed partition or its neighbouring days, so derived tables stay exact or
 * absent.
 */
export function staleDerivedFiles(files: readonly ManifestFile[], changes: readonly FlowChange[]): ManifestFile[] {
  const stale = new Set<string>();
  for (const { partition: p } of changes) {
    for (const d of [-1, 0, 1]) {
      const near = shiftedPartition(p, d);
      for (const scope of ['partition', 'account', 'org'] as const)
        stale.add(partitionKey(scopePartition(near, scope)));
    }
  }
  return files.filter((f) => f.table !== 'flows' && stale.has(partitionKey(scopePartition(f, scopeOfTable(f.table)))));
}

/**
 * The daily rollup files (written by `flowql compact`, src/ingest/daily-compact.ts: flows_daily, edges_daily,
 * org_edges_daily) of the partitions whose hourly rows a derivation rewrites or drops (`plans`: each derived table's
 * planned hours by scope key, and the files it retires): retired with nothing in their place, so an ingest's cost does
 * not grow with the size of the day it delivers into. Their days are read from hourly rows until compact writes them
 * again. A scope spanning regions (the connection tables) retires the day's rollups of every region.
 */
export function dailyFilesRetiredBy(
  plans: readonly {
    readonly table: TableName;
    readonly hours: ReadonlyMap<string, PlannedPartition>;
    readonly retired: readonly ManifestFile[];
  }[],
  derived: readonly ManifestFile[],
): ManifestFile[] {
  const out: ManifestFile[] = [];
  for (const [daily, hourly] of Object.entries(DAILY_ROLLUPS) as [DailyRollup, TableName][]) {
    const plan = plans.find((p) => p.table === hourly);
    if (!plan) continue;
    const scope = scopeOfTable(hourly);
    const scopeKey = (f: PartitionKey) => partitionKey(scopePartition(f, scope));
    const touched = new Set([
      ...[...plan.hours.values()].map((p) => scopeKey(p.partition)),
      ...plan.retired.map(scopeKey),
    ]);
    out.push(...derived.filter((f) => f.table === daily && touched.has(scopeKey(f))));
  }
  return out;
}
