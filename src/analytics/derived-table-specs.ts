/**
 * The derived tables (derive-tables.ts derives them): what each is computed from and how far around an hour it looks,
 * which temp tables the connection tables of a run share, and which tables therefore derive their runs together.
 */
import { sql } from '../store/sql.ts';
import { hourlyRollupFromFlowsSql } from '../store/queries/flows-hourly-query.ts';
import { DERIVE_CONTEXT_SECONDS } from './connection-rules.ts';
import {
  CONNECTION_RUN_TABLES,
  runConnectionRowsSql,
  runEdgeRowsSql,
  runHandshakeRowsSql,
} from './connection-run-query.ts';
import type { DeriveScope, PlannedPartition } from './derived-hours.ts';
import type { DerivedTableSpec, RunPreparation, RunSource } from './derived-run-writer.ts';
import { edgeRowsFromFlowsSql } from './edge-rows-query.ts';
import { handshakesFromFlowsSql } from './handshake-query.ts';

const CONNECTION_CONTEXT_MS = DERIVE_CONTEXT_SECONDS * 1000;

/**
 * What the connection tables of a run share (connection-run-query.ts): one statement computes the run's
 * observations, address map and handshakes once and both tables' rows from them, into a temp table that handshakes
 * and edges then select their rows from. Timing each statement of a from-scratch derivation of bench:ingest's 400,000
 * records (one DuckDB thread), when each table computed everything itself: handshakes 1.27 CPU s and edges 2.93.
 */
const CONNECTION_RUN: RunPreparation = {
  name: 'connections',
  tables: [{ table: CONNECTION_RUN_TABLES.rows, select: runConnectionRowsSql }],
};

/** The connection tables' rows: from the records in one statement each, or from a run's shared temp tables. */
const HANDSHAKES = {
  contextMs: CONNECTION_CONTEXT_MS,
  hourColumn: 'start_time',
  select: (s: RunSource) => handshakesFromFlowsSql(s),
  shared: { prepare: CONNECTION_RUN, select: runHandshakeRowsSql },
};
const EDGES = {
  contextMs: CONNECTION_CONTEXT_MS,
  hourColumn: 'bucket',
  select: (s: RunSource) => edgeRowsFromFlowsSql(s),
  shared: { prepare: CONNECTION_RUN, select: runEdgeRowsSql },
};

/**
 * Every derived table. The connection tables are derived across the regions of their scope (scopeOfTable: one
 * account's, or every account's for the org tables) and file each row under its region (connection-placement.ts);
 * the org tables are written only where more than one account logs. flows_hourly sums each partition's own records.
 */
export const DERIVED_TABLES: readonly DerivedTableSpec[] = [
  { table: 'handshakes', ...HANDSHAKES },
  { table: 'edges', ...EDGES },
  {
    table: 'flows_hourly',
    contextMs: 0,
    hourColumn: 'start_time',
    additive: true,
    select: (s, key) =>
      sql`SELECT *, ${key.region} AS place_region FROM (${hourlyRollupFromFlowsSql(s.files, s.units.hours, s.additions)})`,
  },
  { table: 'org_handshakes', ...HANDSHAKES },
  { table: 'org_edges', ...EDGES },
];

/**
 * Runs of at most this many records (estimated, counting each once per hour that reads it) compute both connection
 * tables in one statement (CONNECTION_RUN); larger ones, a single hour of more records than a run may hold
 * (RUN_RECORDS, derive-inputs.ts), derive each table in its own streamed statement. The run's observations are held
 * whole (as a temp table they took 90 MiB for the 227,938 of bench:ingest's first run, about 400 bytes each), against
 * the 448 MB the ingester gives DuckDB; an hour of a 100M-record, 10-day backfill (830,000 with its context) would
 * not fit beside the operators that read them.
 */
export const SHARED_RUN_RECORDS = 250_000;

/**
 * Plans whose tables derive their runs together: those sharing a run's intermediate tables (`shared`) with the same
 * scope and the same planned hours (so the same runs), in plan order. Usually handshakes with edges and
 * org_handshakes with org_edges; a table planned differently (its files missing, or `tables` naming one) runs alone.
 */
export function sharingGroups<P extends SharingPlan>(plans: readonly P[]): P[][] {
  const groups: { key: string; plans: P[] }[] = [];
  for (const plan of plans) {
    const hours = [...plan.hours]
      .map(([k, p]) => `${k}:${[...p.hours].sort((x, y) => x - y).join(',')}`)
      .sort()
      .join(';');
    const prep = plan.spec.shared?.prepare;
    const key = prep ? `${prep.name}|${plan.scope}|${plan.spec.contextMs}|${hours}` : '';
    const group = key === '' ? undefined : groups.find((g) => g.key === key);
    if (group) group.plans.push(plan);
    else groups.push({ key, plans: [plan] });
  }
  return groups.map((g) => g.plans);
}

export interface SharingPlan {
  readonly spec: DerivedTableSpec;
  readonly scope: DeriveScope;
  readonly hours: ReadonlyMap<string, PlannedPartition>;
}
