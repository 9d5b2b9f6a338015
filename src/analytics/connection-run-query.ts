/**
 * The connection tables of one derivation run (derive-tables.ts) in one statement: the run's observations, address
 * map and handshakes are computed once, as CTEs held in memory, and both the `handshakes/` and the `edges/` rows (or
 * their org twins) are selected from them into one temp table, `derive_connections`, that each table then reads its
 * own rows from. Before, each table's statement computed all three itself, so every run paired its handshakes twice
 * and read and normalized its records about a dozen times (the streamed source re-reads them at every use,
 * flow-source.ts).
 *
 * The statement is the CTEs of handshake-query.ts and edge-rows-query.ts, so the rows are the same (every value is a
 * function of a unit's set of records, never of the order a scan delivers them in).
 *
 * Why one statement, not a temp table per intermediate (which it was): writing DuckDB table storage costs far more
 * than holding a CTE. On a day of bench:ingest's 400,000 records (251,094 observations), computing the observations
 * took 49 ms, holding them as a CTE 4 ms more, writing them into a temp table 130 ms more; the run's connection
 * statements took 636-697 ms as one, 698-734 ms as five.
 */
import { raw, sql, type SqlFragment } from '../store/sql.ts';
import { addressMapCte } from './endpoint-query.ts';
import { EDGE_ROW_COLUMNS, edgeRowCtes, edgeRowOrder, edgeRowsSelectSql } from './edge-rows-query.ts';
import type { FlowSource } from './flow-source.ts';
import {
  HANDSHAKE_COLUMNS,
  handshakeRowOrder,
  handshakeRowsSql,
  handshakeSessionCtes,
  resolvedHandshakesCte,
} from './handshake-query.ts';
import { observationCtes } from './normalized-records-query.ts';

/** The temp table both connection tables of a run select their rows from (dropped after the derivation). */
export const CONNECTION_RUN_TABLES = { rows: 'derive_connections' } as const;

/**
 * The rows of both connection tables of the run, per hour: `kind` ('handshake' or 'edge'), then both tables' columns
 * by name (a name both have, like client_addr, is one column of the same type), NULL in the other table's. The
 * contents of `derive_connections`. (Flat, not a struct per table: packing and unpacking the structs cost more than
 * the NULLs, about 20 ms of a day-run's 600.)
 */
export function runConnectionRowsSql(source: FlowSource): SqlFragment {
  // The observations are held whatever the source: every CTE below reads them, some twice.
  return sql`WITH ${observationCtes(source, true)},
${addressMapCte()},
${handshakeSessionCtes()},
${resolvedHandshakesCte(true)},
${edgeRowCtes(true)},
handshake_rows AS (${handshakeRowsSql(true, undefined, false)}),
edge_rows_kept AS (${edgeRowsSelectSql(true, undefined, false)})
SELECT 'handshake' AS kind, * FROM handshake_rows
UNION ALL BY NAME
SELECT 'edge' AS kind, * FROM edge_rows_kept`;
}

/** Handshake rows of the run, per hour, as handshakesFromFlowsSql derives them, in their order. */
export function runHandshakeRowsSql(): SqlFragment {
  return sql`SELECT ${raw(['unit', ...HANDSHAKE_COLUMNS, 'place_region'].join(', '))} FROM ${raw(CONNECTION_RUN_TABLES.rows)}
WHERE kind = 'handshake' ORDER BY ${raw(handshakeRowOrder(true))}`;
}

/** Edge rows of the run, per hour, as edgeRowsFromFlowsSql derives them, in their order. */
export function runEdgeRowsSql(): SqlFragment {
  return sql`SELECT ${raw(['unit', ...EDGE_ROW_COLUMNS, 'place_region'].join(', '))} FROM ${raw(CONNECTION_RUN_TABLES.rows)}
WHERE kind = 'edge' ORDER BY ${raw(edgeRowOrder(true))}`;
}
